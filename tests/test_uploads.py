"""
Uploaded images carry nothing hidden, cannot exhaust memory, and are served.

The staff-only upload endpoint (monographs.editor_views) re-encodes every
image from its pixels: metadata and bytes after the image are dropped. The
file is named by the SHA-256 of what is stored and served from /media/uploads/
under production settings, with a type fixed by its name and a long cache.
tests/test_editor_views.py covers who may upload and which files are refused.
"""

import hashlib
import io
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from PIL import ExifTags, Image, PngImagePlugin

from tests.factories import EditorFactory

UPLOAD_URL = "/markdownx/upload/"
SECRETS = [b"SecretCam", b"SecretComment", b"SecretText", b"FAKEICC", b"POLYGLOT"]
TRAILER = b"<html><script>alert('POLYGLOT')</script></html>PK\x03\x04POLYGLOT.zip"


def photo(image_format, size=(24, 16), mode="RGB", orientation=None):
    """An image with EXIF (camera, GPS), an ICC profile and a comment or text."""
    image = Image.new(mode, size, (200, 30, 90) if mode == "RGB" else 128)
    image.putpixel((0, 0), (10, 250, 10) if mode == "RGB" else 7)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Model] = "SecretCam 2"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (51.0, 30.0, 12.0),
            ExifTags.GPS.GPSLongitudeRef: "W",
            ExifTags.GPS.GPSLongitude: (0.0, 7.0, 40.0),
        }
    )
    options = {"exif": exif, "icc_profile": b"FAKEICC" * 20}
    if image_format == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "SecretText")
        options["pnginfo"] = text
    if image_format == "JPEG":
        options["comment"] = b"SecretComment"
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


class UploadTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = EditorFactory()

    def setUp(self):
        self.media_root = tempfile.mkdtemp(prefix="mgref-test-media-")
        self.addCleanup(shutil.rmtree, self.media_root, ignore_errors=True)
        media = override_settings(MEDIA_ROOT=self.media_root)
        media.enable()
        self.addCleanup(media.disable)
        self.client.force_login(self.staff)

    def upload(self, data, name="image.bin", content_type="image/png"):
        return self.client.post(
            UPLOAD_URL, {"image": SimpleUploadedFile(name, data, content_type)}
        )

    def uploaded_url(self, data, **kwargs):
        response = self.upload(data, **kwargs)
        self.assertEqual(response.status_code, 200, response.content)
        code = response.json()["image_code"]
        self.assertTrue(code.startswith("![](") and code.endswith(")"), code)
        return code[len("![](") : -1]

    def stored(self, url):
        name = url.rsplit("/", 1)[1]
        return (
            Path(self.media_root) / settings.MARKDOWNX_MEDIA_PATH / name
        ).read_bytes()

    def stored_files(self):
        return sorted(p for p in Path(self.media_root).rglob("*") if p.is_file())


class MetadataTests(UploadTestCase):
    def test_exif_gps_icc_and_comments_are_gone(self):
        for image_format in ["JPEG", "PNG", "WEBP"]:
            with self.subTest(image_format=image_format):
                original = photo(image_format)
                with Image.open(io.BytesIO(original)) as image:
                    self.assertEqual(image.getexif()[ExifTags.Base.Make], "SecretCam")
                    self.assertIn(ExifTags.IFD.GPSInfo, image.getexif())
                stored = self.stored(self.uploaded_url(original))
                for secret in SECRETS:
                    self.assertNotIn(secret, stored)
                with Image.open(io.BytesIO(stored)) as image:
                    self.assertEqual(image.format, image_format)
                    self.assertEqual(dict(image.getexif()), {})
                    self.assertNotIn("exif", image.info)
                    self.assertNotIn("icc_profile", image.info)
                    self.assertNotIn("comment", image.info)
                    self.assertNotIn("Comment", image.info)
                    self.assertNotIn("xmp", image.info)
                    self.assertEqual(image.size, (24, 16))

    def test_the_exif_orientation_is_applied_to_the_pixels(self):
        # Orientation 6: shown turned a quarter clockwise. With the tag gone,
        # the pixels are turned instead, so the image looks the same.
        original = photo("PNG", size=(24, 16), orientation=6)
        stored = self.stored(self.uploaded_url(original))
        with Image.open(io.BytesIO(stored)) as image:
            self.assertEqual(image.size, (16, 24))
            self.assertEqual(image.convert("RGB").getpixel((15, 0)), (10, 250, 10))

    def test_the_stored_name_is_the_hash_of_the_stored_bytes(self):
        url = self.uploaded_url(photo("JPEG"))
        stored = self.stored(url)
        self.assertEqual(
            url,
            f"{settings.MEDIA_URL}{settings.MARKDOWNX_MEDIA_PATH}"
            f"{hashlib.sha256(stored).hexdigest()}.jpg",
        )

    def test_png_pixels_and_transparency_are_kept_exactly(self):
        for mode in ["RGBA", "P", "L", "LA"]:
            with self.subTest(mode=mode):
                image = Image.new("RGBA", (9, 7), (0, 0, 0, 0))
                image.putpixel((3, 4), (250, 20, 30, 255))
                image.putpixel((5, 1), (20, 250, 30, 128))
                image = image.convert(mode)
                buffer = io.BytesIO()
                options = {"transparency": 0} if mode == "P" else {}
                image.save(buffer, format="PNG", **options)
                stored = self.stored(self.uploaded_url(buffer.getvalue()))
                with (
                    Image.open(io.BytesIO(stored)) as saved,
                    Image.open(buffer) as original,
                ):
                    self.assertEqual(saved.mode, mode)
                    self.assertEqual(
                        saved.convert("RGBA").tobytes(),
                        original.convert("RGBA").tobytes(),
                    )


class PolyglotTests(UploadTestCase):
    def test_bytes_after_the_image_are_dropped(self):
        for image_format, content_type in [
            ("PNG", "image/png"),
            ("JPEG", "image/jpeg"),
            ("WEBP", "image/webp"),
        ]:
            with self.subTest(image_format=image_format):
                clean = photo(image_format)
                stored = self.stored(
                    self.uploaded_url(clean + TRAILER, content_type=content_type)
                )
                self.assertNotIn(b"POLYGLOT", stored)
                self.assertNotIn(b"<script", stored)
                self.assertNotIn(b"PK\x03\x04", stored)
                with (
                    Image.open(io.BytesIO(stored)) as saved,
                    Image.open(io.BytesIO(clean)) as original,
                ):
                    self.assertEqual(saved.size, original.size)
                    if image_format == "PNG":
                        self.assertEqual(saved.tobytes(), original.tobytes())

    def test_html_hidden_in_a_text_chunk_is_dropped(self):
        text = PngImagePlugin.PngInfo()
        text.add_text("Description", "<script>alert('POLYGLOT')</script>")
        buffer = io.BytesIO()
        Image.new("RGB", (4, 4)).save(buffer, format="PNG", pnginfo=text)
        stored = self.stored(self.uploaded_url(buffer.getvalue()))
        self.assertNotIn(b"<script", stored)


class DecompressionBombTests(UploadTestCase):
    def test_a_12000_by_12000_image_is_refused_with_its_size(self):
        # 144 megapixels in a few kilobytes: decoding it would take 144 MB.
        buffer = io.BytesIO()
        Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")
        self.assertLess(len(buffer.getvalue()), settings.MARKDOWNX_UPLOAD_MAX_SIZE)
        response = self.upload(buffer.getvalue(), name="bomb.png")
        self.assertEqual(response.status_code, 400)
        [message] = response.json()["image"]
        self.assertIn("12,000 × 12,000 pixels", message)
        self.assertIn("at most 40 megapixels", message)
        self.assertEqual(self.stored_files(), [])

    def test_a_header_claiming_billions_of_pixels_is_refused(self):
        # Over twice Pillow's own limit: Pillow refuses to open it at all.
        from tests.test_editor_views import png_declaring_size

        response = self.upload(png_declaring_size(60_000, 60_000), name="bomb.png")
        self.assertEqual(response.status_code, 400)
        self.assertIn("megapixels", response.json()["image"][0])
        self.assertEqual(self.stored_files(), [])

    @override_settings(MGREF_UPLOAD_MAX_PIXELS=100)
    def test_the_limit_is_on_the_pixel_count(self):
        for size, status in [((10, 10), 200), ((10, 11), 400), ((101, 1), 400)]:
            with self.subTest(size=size):
                buffer = io.BytesIO()
                Image.new("RGB", size).save(buffer, format="PNG")
                self.assertEqual(self.upload(buffer.getvalue()).status_code, status)


@override_settings(DEBUG=False, ALLOWED_HOSTS=["mgref.example"])
class ServedUploadTests(UploadTestCase):
    def setUp(self):
        super().setUp()
        self.client.defaults["HTTP_HOST"] = "mgref.example"

    def get(self, url, **headers):
        return self.client.get(url, HTTP_HOST="mgref.example", **headers)

    def test_the_returned_url_serves_the_image_under_production_settings(self):
        formats = [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
        urls = [self.uploaded_url(photo(image_format)) for image_format, _ in formats]
        # Readers load the images: no login needed.
        self.client.logout()
        for url, (image_format, content_type) in zip(urls, formats, strict=True):
            with self.subTest(image_format=image_format):
                response = self.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response["Content-Type"], content_type)
                self.assertEqual(response["X-Content-Type-Options"], "nosniff")
                self.assertIn("immutable", response["Cache-Control"])
                self.assertIn("max-age=31536000", response["Cache-Control"])
                body = b"".join(response.streaming_content)
                self.assertEqual(body, self.stored(url))
                with Image.open(io.BytesIO(body)) as image:
                    self.assertEqual(image.format, image_format)

    def test_the_editors_preview_shows_an_uploaded_image(self):
        url = self.uploaded_url(photo("PNG"))
        response = self.client.post(
            "/markdownx/markdownify/",
            {"content": f"A chart:\n\n![Absorption by form]({url})"},
            HTTP_HOST="mgref.example",
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn(f'src="{url}"', response.content.decode())
        self.assertEqual(self.get(url).status_code, 200)

    def test_a_cached_copy_is_revalidated_with_a_304(self):
        url = self.uploaded_url(photo("PNG"))
        etag = self.get(url)["ETag"]
        response = self.get(url, HTTP_IF_NONE_MATCH=etag)
        self.assertEqual(response.status_code, 304)
        head = self.client.head(url, HTTP_HOST="mgref.example")
        self.assertEqual(head.status_code, 200)

    def test_only_content_hashed_names_are_served(self):
        uploads = Path(self.media_root) / settings.MARKDOWNX_MEDIA_PATH
        uploads.mkdir(parents=True, exist_ok=True)
        (uploads / "page.html").write_text("<script>alert(1)</script>")
        (uploads / ("0" * 64 + ".svg")).write_text("<svg onload=alert(1)/>")
        (uploads / ("1" * 64 + ".png.html")).write_text("<script>alert(1)</script>")
        base = f"{settings.MEDIA_URL}{settings.MARKDOWNX_MEDIA_PATH}"
        for name in [
            "page.html",
            "0" * 64 + ".svg",
            "1" * 64 + ".png.html",
            "2" * 64 + ".png",  # well formed, not uploaded
            "A" * 64 + ".png",
            "..%2f..%2fmgref%2fsettings.py",
        ]:
            with self.subTest(name=name):
                self.assertEqual(self.get(base + name).status_code, 404)

    def test_posting_to_an_image_is_refused(self):
        url = self.uploaded_url(photo("PNG"))
        response = self.client.post(url, HTTP_HOST="mgref.example")
        self.assertEqual(response.status_code, 405)

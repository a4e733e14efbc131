import hashlib
import io
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory, TestCase, override_settings
from django.urls import reverse
from PIL import Image

from tests.factories import (
    CitationFactory,
    EditorFactory,
    StaffFactory,
    UserFactory,
)

PREVIEW_URL = "/markdownx/markdownify/"
UPLOAD_URL = "/markdownx/upload/"


class MarkdownPreviewTests(TestCase):
    content = "**Boldly** stated [@alpha2001].\n\n<script>alert(1)</script>"

    @classmethod
    def setUpTestData(cls):
        cls.staff = EditorFactory()
        cls.user = UserFactory()
        CitationFactory(key="alpha2001")

    def test_urls_are_the_ones_markdownx_uses(self):
        self.assertEqual(reverse("markdownx_markdownify"), PREVIEW_URL)
        self.assertEqual(reverse("markdownx_upload"), UPLOAD_URL)

    def test_anonymous_is_refused(self):
        response = self.client.post(PREVIEW_URL, {"content": self.content})
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"<strong>", response.content)
        self.assertNotIn(b"Boldly", response.content)
        self.assertNotIn(b"#ref-1", response.content)

    def test_non_staff_user_is_refused(self):
        self.client.force_login(self.user)
        response = self.client.post(PREVIEW_URL, {"content": self.content})
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"Boldly", response.content)

    def test_staff_without_a_role_is_refused(self):
        self.client.force_login(StaffFactory())
        response = self.client.post(PREVIEW_URL, {"content": self.content})
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"Boldly", response.content)

    def test_inactive_staff_is_refused(self):
        inactive = StaffFactory(is_active=False)
        self.client.force_login(inactive)
        response = self.client.post(PREVIEW_URL, {"content": self.content})
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"Boldly", response.content)

    def test_get_is_not_allowed(self):
        self.client.force_login(self.staff)
        response = self.client.get(PREVIEW_URL, {"content": self.content})
        self.assertEqual(response.status_code, 405)
        self.assertNotIn(b"Boldly", response.content)

    def test_staff_gets_rendered_preview(self):
        self.client.force_login(self.staff)
        response = self.client.post(PREVIEW_URL, {"content": self.content})
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertIn("<strong>Boldly</strong>", body)
        self.assertIn('href="#ref-1"', body)
        self.assertNotIn("[@", body)

    def test_the_preview_shows_the_text_as_it_will_be_saved(self):
        """Saving strips trailing whitespace: no hard line break in the preview
        that the saved page would not have."""
        self.client.force_login(self.staff)
        response = self.client.post(PREVIEW_URL, {"content": "Line one  \r\nLine two"})
        self.assertEqual(response.content.decode(), "<p>Line one\nLine two</p>")

    def test_staff_preview_is_sanitized(self):
        self.client.force_login(self.staff)
        response = self.client.post(
            PREVIEW_URL,
            {
                "content": (
                    "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n"
                    "[y](JaVaScRiPt:alert(2)) <img src=x onerror=alert(3)>\n\n"
                    "<SCRIPT>alert(4)</SCRIPT>"
                )
            },
        )
        self.assertEqual(response.status_code, 200)
        body = response.content.decode().lower()
        self.assertNotIn("<script", body)
        self.assertNotIn("javascript:", body)
        self.assertNotIn("<img", body)

    def test_missing_content_renders_nothing(self):
        self.client.force_login(self.staff)
        response = self.client.post(PREVIEW_URL, {})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"")

    def test_staff_post_without_csrf_token_is_refused(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.staff)
        response = client.post(PREVIEW_URL, {"content": self.content})
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"Boldly", response.content)

    def test_staff_post_with_csrf_token_is_accepted(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.staff)
        request = RequestFactory().get("/")
        token = get_token(request)
        client.cookies[settings.CSRF_COOKIE_NAME] = request.META["CSRF_COOKIE"]
        response = client.post(
            PREVIEW_URL, {"content": self.content, "csrfmiddlewaretoken": token}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"<strong>Boldly</strong>", response.content)


def image_bytes(image_format, size=(8, 8), noise=False):
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 30, 90))
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def png_declaring_size(width, height):
    """A tiny, well-formed PNG whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


class ImageUploadTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = EditorFactory()
        cls.user = UserFactory()

    def setUp(self):
        self.media_root = tempfile.mkdtemp(prefix="mgref-test-media-")
        self.addCleanup(shutil.rmtree, self.media_root, ignore_errors=True)
        media = override_settings(MEDIA_ROOT=self.media_root)
        media.enable()
        self.addCleanup(media.disable)

    def stored_files(self):
        return sorted(
            path.relative_to(self.media_root)
            for path in Path(self.media_root).rglob("*")
            if path.is_file()
        )

    def upload(self, name, data, content_type, client=None):
        client = client or self.client
        return client.post(
            UPLOAD_URL, {"image": SimpleUploadedFile(name, data, content_type)}
        )

    def assertRejected(self, response, *words):
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response["Content-Type"], "application/json")
        errors = response.json()
        self.assertNotIn("image_code", errors)
        self.assertEqual(len(errors["image"]), 1)
        message = errors["image"][0]
        for word in words:
            self.assertIn(word, message)
        self.assertEqual(self.stored_files(), [])
        return message

    def test_anonymous_is_refused(self):
        response = self.upload("a.png", image_bytes("PNG"), "image/png")
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"image_code", response.content)
        self.assertEqual(self.stored_files(), [])

    def test_non_staff_user_is_refused(self):
        self.client.force_login(self.user)
        response = self.upload("a.png", image_bytes("PNG"), "image/png")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.stored_files(), [])

    def test_staff_without_a_role_is_refused(self):
        self.client.force_login(StaffFactory())
        response = self.upload("a.png", image_bytes("PNG"), "image/png")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.stored_files(), [])

    def test_get_is_not_allowed(self):
        self.client.force_login(self.staff)
        self.assertEqual(self.client.get(UPLOAD_URL).status_code, 405)

    def test_staff_post_without_csrf_token_is_refused(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.staff)
        response = self.upload("a.png", image_bytes("PNG"), "image/png", client)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.stored_files(), [])

    def test_staff_uploads_png_jpeg_and_webp(self):
        self.client.force_login(self.staff)
        for image_format, name, content_type, extension in [
            ("PNG", "chart.png", "image/png", "png"),
            ("JPEG", "photo.jpeg", "image/jpeg", "jpg"),
            ("WEBP", "label.webp", "image/webp", "webp"),
        ]:
            with self.subTest(image_format=image_format):
                data = image_bytes(image_format)
                before = set(self.stored_files())
                response = self.upload(name, data, content_type)
                self.assertEqual(response.status_code, 200)
                image_code = response.json()["image_code"]
                self.assertTrue(image_code.startswith("![]("), image_code)
                self.assertTrue(image_code.endswith(f".{extension})"), image_code)
                url = image_code[len("![](") : -1]
                self.assertTrue(
                    url.startswith(
                        f"{settings.MEDIA_URL}{settings.MARKDOWNX_MEDIA_PATH}"
                    ),
                    url,
                )
                new = set(self.stored_files()) - before
                self.assertEqual(len(new), 1)
                stored = new.pop()
                self.assertEqual(stored.parent, Path(settings.MARKDOWNX_MEDIA_PATH))
                self.assertEqual(stored.suffix, f".{extension}")
                self.assertTrue(url.endswith(f"/{stored.name}"), url)
                # Re-encoded, and named by the SHA-256 of what was stored.
                saved_bytes = (Path(self.media_root) / stored).read_bytes()
                self.assertEqual(stored.stem, hashlib.sha256(saved_bytes).hexdigest())
                with Image.open(Path(self.media_root) / stored) as saved:
                    self.assertEqual(saved.format, image_format)
                    self.assertEqual(saved.size, (8, 8))

    def test_stored_name_comes_from_the_content_not_the_upload_name(self):
        self.client.force_login(self.staff)
        response = self.upload("../../evil.html", image_bytes("PNG"), "text/html")
        self.assertEqual(response.status_code, 200)
        [stored] = self.stored_files()
        self.assertEqual(stored.parent, Path(settings.MARKDOWNX_MEDIA_PATH))
        self.assertEqual(stored.suffix, ".png")
        self.assertNotIn("evil", str(stored))
        self.assertNotIn("evil", response.json()["image_code"])

    def test_the_same_image_is_stored_once(self):
        self.client.force_login(self.staff)
        data = image_bytes("PNG")
        first = self.upload("same.png", data, "image/png").json()["image_code"]
        second = self.upload("other.png", data, "image/png").json()["image_code"]
        self.assertEqual(first, second)
        self.assertEqual(len(self.stored_files()), 1)

    def test_different_images_get_different_files(self):
        self.client.force_login(self.staff)
        first = self.upload("a.png", image_bytes("PNG"), "image/png")
        second = self.upload("b.png", image_bytes("PNG", size=(9, 9)), "image/png")
        self.assertNotEqual(first.json()["image_code"], second.json()["image_code"])
        self.assertEqual(len(self.stored_files()), 2)

    def test_svg_is_rejected(self):
        self.client.force_login(self.staff)
        svg = (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
            b"<script>alert(2)</script></svg>"
        )
        for name, content_type in [
            ("evil.svg", "image/svg+xml"),
            ("evil.png", "image/png"),
        ]:
            with self.subTest(name=name):
                self.assertRejected(
                    self.upload(name, svg, content_type), "PNG", "JPEG", "WebP"
                )

    def test_html_is_rejected(self):
        self.client.force_login(self.staff)
        html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
        for name, content_type in [
            ("page.html", "text/html"),
            ("page.jpg", "image/jpeg"),
        ]:
            with self.subTest(name=name):
                self.assertRejected(
                    self.upload(name, html, content_type), "PNG", "JPEG", "WebP"
                )

    def test_gif_is_rejected(self):
        self.client.force_login(self.staff)
        gif = image_bytes("GIF")
        self.assertTrue(gif.startswith(b"GIF8"))
        for name, content_type in [
            ("anim.gif", "image/gif"),
            ("anim.png", "image/png"),
        ]:
            with self.subTest(name=name):
                self.assertRejected(
                    self.upload(name, gif, content_type), "PNG", "JPEG", "WebP"
                )

    def test_text_file_renamed_png_is_rejected(self):
        self.client.force_login(self.staff)
        response = self.upload(
            "notes.png", b"Magnesium citrate, 16% elemental.\n", "image/png"
        )
        self.assertRejected(response, "PNG", "JPEG", "WebP")

    def test_truncated_png_is_rejected(self):
        self.client.force_login(self.staff)
        data = image_bytes("PNG", size=(32, 32), noise=True)
        response = self.upload("cut.png", data[: len(data) // 2], "image/png")
        self.assertRejected(response, "PNG", "JPEG", "WebP")

    @override_settings(MARKDOWNX_UPLOAD_MAX_SIZE=1000)
    def test_file_over_the_size_limit_is_rejected(self):
        self.client.force_login(self.staff)
        data = image_bytes("PNG", size=(64, 64), noise=True)
        self.assertGreater(len(data), 1000)
        message = self.assertRejected(self.upload("big.png", data, "image/png"))
        self.assertIn("at most", message)

    @override_settings(MARKDOWNX_UPLOAD_MAX_SIZE=1000)
    def test_file_within_the_size_limit_is_accepted(self):
        self.client.force_login(self.staff)
        data = image_bytes("PNG")
        self.assertLessEqual(len(data), 1000)
        response = self.upload("small.png", data, "image/png")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(self.stored_files()), 1)

    def test_png_declaring_enormous_dimensions_is_rejected(self):
        # A few dozen bytes whose header claims 30000 x 30000 pixels: Pillow
        # refuses to open it as a decompression bomb.
        client = Client(raise_request_exception=False)
        client.force_login(self.staff)
        response = self.upload(
            "bomb.png", png_declaring_size(30000, 30000), "image/png", client
        )
        self.assertRejected(response)

    def test_missing_file_is_rejected(self):
        self.client.force_login(self.staff)
        for data in [{}, {"image": ""}, {"file": SimpleUploadedFile("a.png", b"x")}]:
            with self.subTest(data=data):
                response = self.client.post(UPLOAD_URL, data)
                message = self.assertRejected(response)
                self.assertIn("image", message.lower())

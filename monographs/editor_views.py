"""
The endpoints behind the admin's Markdown editor, and the images it uploads.

django-markdownx's own views are open to anyone and accept SVG uploads;
these replace them at the same URLs, for those who write content only
(``monographs.permissions.can_edit``).

An uploaded image is decoded and encoded again by Pillow in its own format
(PNG, JPEG or WebP), so only its pixels are kept: EXIF (camera, GPS
position), XMP, text chunks, colour profiles, extra frames and any bytes
hidden after the image are dropped, and the EXIF orientation is applied
to the pixels first. It is stored under the SHA-256 of the encoded bytes,
so the same image uploaded twice is one file, and its address can be cached
for ever.
"""

import hashlib
import io
import re
import warnings
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_POST, require_safe
from PIL import Image, ImageOps, UnidentifiedImageError

from monographs.markdown import markdownify
from monographs.permissions import can_edit
from monographs.schema import normalize_text

UPLOAD_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
# Phones write JPEGs with extra images appended (MPO); the first is kept.
READ_AS = {"MPO": "JPEG"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
UPLOAD_NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|webp)$")
NOT_AN_IMAGE = "This file is not a PNG, JPEG or WebP image."
# Pillow's own errors for files it cannot read or decode.
DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    TypeError,
)


def editor_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_edit(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@require_POST
@editor_required
def markdown_preview(request):
    # The text as it will be stored (monographs.schema.normalize_text): two
    # trailing spaces, a hard line break to Markdown, do not survive a save,
    # so the preview must not show one either.
    return HttpResponse(markdownify(normalize_text(request.POST.get("content", ""))))


class UploadRefused(Exception):
    """An upload that is not stored; the message says why."""


def _upload_error(message):
    return JsonResponse({"image": [message]}, status=400)


def _too_many_pixels(size=None):
    limit = settings.MGREF_UPLOAD_MAX_PIXELS / 1_000_000
    if size is None:
        return UploadRefused(
            f"This image has too many pixels: images may have at most {limit:g} "
            "megapixels."
        )
    width, height = size
    return UploadRefused(
        f"This image is {width:,} × {height:,} pixels "
        f"({width * height / 1_000_000:,.0f} megapixels): images may have at most "
        f"{limit:g} megapixels. Scale it down and upload it again."
    )


def _open(upload):
    """The upload as a Pillow image whose header has been read, not yet decoded."""
    with warnings.catch_warnings():
        # Pillow warns above its own limit (89 megapixels) and refuses above
        # twice that; mgref's lower limit is checked below.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(upload)
        except Image.DecompressionBombError:
            raise _too_many_pixels() from None
        except DECODE_ERRORS:
            raise UploadRefused(NOT_AN_IMAGE) from None
    if READ_AS.get(image.format, image.format) not in UPLOAD_FORMATS:
        raise UploadRefused("Only PNG, JPEG and WebP images can be uploaded.")
    width, height = image.size
    if width * height > settings.MGREF_UPLOAD_MAX_PIXELS:
        raise _too_many_pixels(image.size)
    return image


def reencode(upload):
    """(bytes, extension) of the image's pixels alone, encoded again."""
    image = _open(upload)
    image_format = READ_AS.get(image.format, image.format)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
            # Browsers turn an image by its EXIF orientation, which goes.
            pixels = ImageOps.exif_transpose(image)
    except DECODE_ERRORS:
        raise UploadRefused(NOT_AN_IMAGE) from None
    # Only the pixels: no EXIF, XMP, ICC profile, comments or text chunks.
    transparency = image.info.get("transparency")
    pixels.info = {}
    options = {}
    if image_format == "JPEG":
        if pixels.mode not in {"L", "RGB"}:
            pixels = pixels.convert("RGB")
        options = {"quality": 90, "optimize": True}
    elif image_format == "PNG":
        if transparency is not None:
            options["transparency"] = transparency
    elif image_format == "WEBP":
        if pixels.mode not in {"RGB", "RGBA"}:
            pixels = pixels.convert("RGBA" if "A" in pixels.mode else "RGB")
        options = {"quality": 90}
    buffer = io.BytesIO()
    try:
        pixels.save(buffer, format=image_format, **options)
    except DECODE_ERRORS:
        raise UploadRefused(NOT_AN_IMAGE) from None
    return buffer.getvalue(), UPLOAD_FORMATS[image_format]


def store(data, extension):
    """Save the encoded image under its SHA-256; return the stored name."""
    name = (
        f"{settings.MARKDOWNX_MEDIA_PATH}{hashlib.sha256(data).hexdigest()}.{extension}"
    )
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:
            # Another request stored the same image meanwhile.
            default_storage.delete(saved)
    return name


@require_POST
@editor_required
def image_upload(request):
    upload = request.FILES.get("image")
    if upload is None:
        return _upload_error("Choose an image to upload.")
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
    if upload.size > limit:
        return _upload_error(f"Images must be at most {filesizeformat(limit)}.")
    try:
        data, extension = reencode(upload)
    except UploadRefused as refusal:
        return _upload_error(str(refusal))
    name = store(data, extension)
    return JsonResponse({"image_code": f"![]({default_storage.url(name)})"})


@require_safe
def uploaded_image(request, name):
    """An uploaded image, by the content-hashed name the upload gave it.

    Its name changes with its content, so it may be cached for ever.
    """
    match = UPLOAD_NAME.match(name)
    if match is None:
        raise Http404("No such image.")
    path = f"{settings.MARKDOWNX_MEDIA_PATH}{name}"
    etag = f'"{name}"'
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "ETag": etag,
    }
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        for header, value in headers.items():
            not_modified[header] = value
        return not_modified
    if not default_storage.exists(path):
        raise Http404("No such image.")
    response = FileResponse(
        default_storage.open(path), content_type=CONTENT_TYPES[match.group(1)]
    )
    for header, value in headers.items():
        response[header] = value
    return response

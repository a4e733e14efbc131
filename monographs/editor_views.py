"""
The endpoints behind the admin's Markdown editor.

django-markdownx's own views are open to anyone and accept SVG uploads;
these replace them at the same URLs, for active staff only.
"""

import uuid
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_POST
from PIL import Image, UnidentifiedImageError

from monographs.markdown import markdownify

UPLOAD_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def staff_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@require_POST
@staff_required
def markdown_preview(request):
    return HttpResponse(markdownify(request.POST.get("content", "")))


def _upload_error(message):
    return JsonResponse({"image": [message]}, status=400)


@require_POST
@staff_required
def image_upload(request):
    upload = request.FILES.get("image")
    if upload is None:
        return _upload_error("Choose an image to upload.")
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
    if upload.size > limit:
        return _upload_error(f"Images must be at most {filesizeformat(limit)}.")
    try:
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ):
        return _upload_error("This file is not a PNG, JPEG or WebP image.")
    if image_format not in UPLOAD_FORMATS:
        return _upload_error("Only PNG, JPEG and WebP images can be uploaded.")
    upload.seek(0)
    name = default_storage.save(
        f"{settings.MARKDOWNX_MEDIA_PATH}{uuid.uuid4().hex}.{UPLOAD_FORMATS[image_format]}",
        upload,
    )
    return JsonResponse({"image_code": f"![]({default_storage.url(name)})"})

import json

import orjson
from markdownx.models import MarkdownxField

from monographs.markdown import MAX_MARKDOWN_CHARS, validate_markdown


class MarkdownField(MarkdownxField):
    """Markdown an editor writes, with its live preview in the admin.

    Refuses text the renderer would not render in time (too long, nested too
    deep, too many open brackets…) with a message saying what to change.
    The validator is a default, so migrations do not repeat it.
    """

    default_validators = [validate_markdown]

    def __init__(self, *args, **kwargs):
        # The browser's maxlength stops typing at the limit, so an editor's
        # text is never lost to a refused post; 10 MB of form data
        # (DATA_UPLOAD_MAX_MEMORY_SIZE) holds dozens of full fields.
        kwargs.setdefault("max_length", MAX_MARKDOWN_CHARS)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        field = super().formfield(**kwargs)
        # django-markdownx's form field replaces the widget, dropping the
        # maxlength Django's CharField sets.
        field.widget.attrs.setdefault("maxlength", str(self.max_length))
        return field


class FastJSONEncoder(json.JSONEncoder):
    """JSONField's encoder, through orjson: a revision's document (about
    25 KB) is written on every save, and json.dumps took 0.4 ms of it.

    The JSON is the same value (compact, and UTF-8 rather than \\u escapes);
    anything orjson refuses (an integer past 64 bits) goes to json.
    """

    def encode(self, o):
        try:
            return orjson.dumps(
                o, default=self.default, option=orjson.OPT_NON_STR_KEYS
            ).decode()
        except orjson.JSONEncodeError:
            return super().encode(o)


class FastJSONDecoder(json.JSONDecoder):
    """JSONField's decoder, through orjson; what it refuses (NaN) goes to json."""

    def decode(self, s, *args, **kwargs):
        try:
            return orjson.loads(s)
        except orjson.JSONDecodeError:
            return super().decode(s, *args, **kwargs)

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

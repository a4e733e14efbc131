from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.text import capfirst
from markdownx.models import MarkdownxField
from markdownx.widgets import AdminMarkdownxWidget
from simple_history.admin import SimpleHistoryAdmin

from monographs.admin.forms import EditSummaryForm, InlineContentForm
from monographs.history import change_context
from monographs.models import SearchDocument
from monographs.security import RefusedInput
from monographs.validators import is_blank, validate_no_bidi_controls

MARKDOWN_HELP = (
    "Markdown: **bold**, *italic*, [a link](https://…), lists; cite a reference "
    "with [@key]."
)
PLAIN_HELP = "Plain text: Markdown is not applied."
# A reviewer's or a submitter's comment; reasons take 500, as edit summaries do.
MAX_COMMENT_LENGTH = 5000


def posted_text(request, name, *, strip=True, max_length=500):
    """A text the POST holds (a reason, a comment): empty if it shows
    nothing (zero-width spaces are no reason), refused with a 400 if it holds
    a NUL character (PostgreSQL cannot store one, and no keyboard types it),
    a character that reorders the text around it, or more than
    ``max_length`` characters (the page's field takes no more)."""
    value = request.POST.get(name, "")
    label = name.replace("_", " ")
    if "\x00" in value:
        raise RefusedInput(
            f"The {label} holds a NUL character, which cannot be stored. Remove "
            "it and send the form again."
        )
    if len(value) > max_length:
        raise RefusedInput(
            f"The {label} is {len(value):,} characters long: it can be at most "
            f"{max_length:,}. Nothing was changed."
        )
    try:
        validate_no_bidi_controls(value)
    except ValidationError as error:
        raise RefusedInput(f"The {label}: {error.messages[0]}") from None
    if is_blank(value):
        return ""
    return value.strip() if strip else value


# How the file button's label names the image types uploads take.
IMAGE_TYPE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}


class MarkdownEditor(AdminMarkdownxWidget):
    """The Markdown textarea with mgref's own script (static/js/markdown-editor.js):
    a preview is asked for only when the editor types in a field, in rows
    added after the page loaded too, never on page load. An image is dropped
    on the field or chosen with the file button under it."""

    # Found by the form renderer, which reads apps' templates, not templates/.
    template_name = "monographs/widgets/markdown_editor.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        types = settings.MARKDOWNX_UPLOAD_CONTENT_TYPES
        context.update(
            image_accept=",".join(types),
            image_types=", ".join(
                IMAGE_TYPE_NAMES.get(kind, kind.removeprefix("image/").upper())
                for kind in types
            ),
            image_max_size=settings.MARKDOWNX_UPLOAD_MAX_SIZE,
        )
        return context

    class Media:
        extend = False
        css = {"all": ["markdownx/admin/css/markdownx.min.css"]}
        js = ["js/markdown-editor.js"]


MARKDOWN_WIDGETS = {MarkdownxField: {"widget": MarkdownEditor}}


def help_for(db_field, help_text):
    """Help text shown as written (never parsed as HTML: "/forms/<slug>/"),
    saying whether the field takes Markdown."""
    text = str(help_text or "")
    if isinstance(db_field, MarkdownxField):
        text = f"{text} {MARKDOWN_HELP}".strip()
    elif isinstance(db_field, models.TextField):
        text = f"{text} {PLAIN_HELP}".strip()
    return conditional_escape(text)


def _pruned(nested, prefixes):
    """Django's nested list of deleted objects (each item followed by a list
    of what it takes with it) without the items starting with ``prefixes``,
    nor what they take."""
    kept = []
    skipping = False
    for item in nested:
        if isinstance(item, list):
            children = [] if skipping else _pruned(item, prefixes)
            if children:
                kept.append(children)
            continue
        skipping = str(item).startswith(prefixes)
        if not skipping:
            kept.append(item)
    return kept


class ContentAdmin(SimpleHistoryAdmin):
    """Admin for content: a reason for every save and deletion, Markdown preview."""

    form = EditSummaryForm
    formfield_overrides = MARKDOWN_WIDGETS
    delete_confirmation_template = "admin/monographs/delete_confirmation.html"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            field.help_text = help_for(db_field, field.help_text)
        return field

    def get_deleted_objects(self, objs, request):
        """What deleting takes with it, as editors know it: without the
        citation links' join rows and the search index (the citations are
        kept; the index follows the published document)."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        internal = [
            model
            for model in apps.get_app_config("monographs").get_models(
                include_auto_created=True
            )
            if model._meta.auto_created or model is SearchDocument
        ]
        prefixes = tuple(f"{capfirst(m._meta.verbose_name)}: " for m in internal)
        plurals = {m._meta.verbose_name_plural for m in internal}
        counts = {name: n for name, n in counts.items() if name not in plurals}
        return _pruned(deleted, prefixes), counts, perms_needed, protected

    def get_actions(self, request):
        # Bulk deletion would skip the reason every deletion needs.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        reason = request.POST.get("edit_summary", "").strip()
        # Messages wait for the revision: whether the save wrote one decides
        # what to say (see saved_messages).
        request.mgref_messages = deferred = []
        try:
            # The revision is written when the context ends: inside the
            # transaction, so that a save completes with its revision or not at all.
            with transaction.atomic():
                with change_context(reason=reason, user=request.user) as context:
                    merged = self.merge_post(request, object_id) if object_id else {}
                    if isinstance(merged, HttpResponseBase):
                        return merged
                    extra_context = {**(extra_context or {}), **merged}
                    response = super().changeform_view(
                        request, object_id, form_url, extra_context
                    )
                deferred[:] = self.saved_messages(
                    deferred, object_id=object_id, revisions=context.revisions
                )
                # The save's revision is written now: steps that need it (save
                # and submit) run here, in the same transaction.
                for step in getattr(request, "_after_revision", []):
                    step()
                return response
        except BaseException:
            deferred.clear()  # Nothing was saved: no "changed successfully".
            raise
        finally:
            del request.mgref_messages
            for message, level, args, kwargs in deferred:
                super().message_user(request, message, level, *args, **kwargs)

    def saved_messages(self, deferred, *, object_id, revisions):
        """The messages of a save, once its revisions are known: [(message,
        level, args, kwargs)] as message_user was called."""
        return deferred

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        deferred = getattr(request, "mgref_messages", None)
        if deferred is None:
            super().message_user(request, message, level, *args, **kwargs)
        else:
            deferred.append((message, level, args, kwargs))

    def merge_post(self, request, object_id):
        """Rewrite a post made from an older revision (see admin.merge)."""
        return {}

    def save_model(self, request, obj, form, change):
        # Like MediaWiki, a save that changes nothing records no revision.
        content_changed = set(form.changed_data) - {"edit_summary", "base_revision"}
        if not change or content_changed:
            super().save_model(request, obj, form, change)

    def delete_view(self, request, object_id, extra_context=None):
        if request.method != "POST":
            return super().delete_view(request, object_id, extra_context)
        reason = posted_text(request, "edit_summary")
        if not reason:
            messages.error(
                request, "Give a reason for the deletion: it is kept in the history."
            )
            return HttpResponseRedirect(request.get_full_path())
        with transaction.atomic(), change_context(reason=reason, user=request.user):
            return super().delete_view(request, object_id, extra_context)


class AppendingFormSet(BaseInlineFormSet):
    """Rows added on the page start after the last one: a new row's
    position defaults past the highest of its monograph's rows (it was 0,
    which put a new FAQ second)."""

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if "position" in self.form.base_fields and (
            index is None or index >= self.initial_form_count()
        ):
            kwargs["initial"] = {
                **kwargs.get("initial", {}),
                "position": self._next_position,
            }
        return kwargs

    @cached_property
    def _next_position(self):
        # The rows the formset has loaded for its own forms: no query more.
        positions = [row.position for row in self.get_queryset()]
        return max(positions, default=-1) + 1


class ContentInline(admin.StackedInline):
    template = "admin/monographs/includes/stacked.html"
    formset = AppendingFormSet

    # Stacked, not tabular: every field keeps a visible label (tabular inlines
    # leave inputs unlabelled for screen readers).
    form = InlineContentForm
    formfield_overrides = MARKDOWN_WIDGETS
    extra = 0

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            field.help_text = help_for(db_field, field.help_text)
        return field

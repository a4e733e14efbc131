from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.http.response import HttpResponseBase
from markdownx.models import MarkdownxField
from markdownx.widgets import AdminMarkdownxWidget
from simple_history.admin import SimpleHistoryAdmin

from monographs.admin.forms import EditSummaryForm, InlineContentForm
from monographs.history import change_context

MARKDOWN_WIDGETS = {MarkdownxField: {"widget": AdminMarkdownxWidget}}


class ContentAdmin(SimpleHistoryAdmin):
    """Admin for content: a reason for every save and deletion, Markdown preview."""

    form = EditSummaryForm
    formfield_overrides = MARKDOWN_WIDGETS
    delete_confirmation_template = "admin/monographs/delete_confirmation.html"

    def get_actions(self, request):
        # Bulk deletion would skip the reason every deletion needs.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        reason = request.POST.get("edit_summary", "").strip()
        # The revision is written when the context ends: inside the
        # transaction, so that a save completes with its revision or not at all.
        with transaction.atomic(), change_context(reason=reason, user=request.user):
            merged = self.merge_post(request, object_id) if object_id else {}
            if isinstance(merged, HttpResponseBase):
                return merged
            extra_context = {**(extra_context or {}), **merged}
            return super().changeform_view(request, object_id, form_url, extra_context)

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
        reason = request.POST.get("edit_summary", "").strip()
        if not reason:
            messages.error(
                request, "Give a reason for the deletion: it is kept in the history."
            )
            return HttpResponseRedirect(request.get_full_path())
        with transaction.atomic(), change_context(reason=reason, user=request.user):
            return super().delete_view(request, object_id, extra_context)


class ContentInline(admin.StackedInline):
    # Stacked, not tabular: every field keeps a visible label (tabular inlines
    # leave inputs unlabelled for screen readers).
    form = InlineContentForm
    formfield_overrides = MARKDOWN_WIDGETS
    extra = 0

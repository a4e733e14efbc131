"""The studies of a monograph's uses: inline on the monograph, and a list."""

from django.contrib import admin

from monographs.admin.base import ContentInline
from monographs.admin.content import MonographRowAdmin
from monographs.admin.forms import InlineContentForm
from monographs.models import Evidence, Study


class StudyInlineForm(InlineContentForm):
    def clean(self):
        cleaned = super().clean()
        if not self.cleaned_data.get("DELETE") and not cleaned.get("citations"):
            self.add_error("citations", "Attach the paper that reports the study.")
        return cleaned


class StudyInline(ContentInline):
    """Stacked under the monograph: a study belongs to one of its uses, which
    must be saved before studies can name it."""

    model = Study
    form = StudyInlineForm
    verbose_name_plural = "studies (one per outcome a study reports)"
    autocomplete_fields = ["citations"]
    fields = [
        ("evidence", "name", "design", "position"),
        ("participants", "population", "baseline_status"),
        ("salt", "hydrate", "salt_detail"),
        ("elemental_mg_per_day", "duration", "comparator"),
        ("outcome", "result"),
        ("studies_included", "studies_improved"),
        ("effect_estimate", "ci_lower", "ci_upper", "effect_unit"),
        ("risk_of_bias", "risk_of_bias_note"),
        "notes",
        "citations",
    ]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields.get("evidence")
        if field is not None:
            # Only this monograph's own uses, by name.
            field.queryset = Evidence.objects.filter(form=obj).select_related(
                "indication"
            )
            field.label_from_instance = lambda evidence: evidence.indication.name
            field.widget.can_add_related = False
            field.widget.can_change_related = False
            field.widget.can_delete_related = False
            field.widget.can_view_related = False
        return formset


@admin.register(Study)
class StudyAdmin(MonographRowAdmin):
    list_display = ["name", "outcome", "form", "evidence", "design", "salt", "result"]
    list_select_related = ["form", "evidence__form", "evidence__indication"]
    list_filter = ["design", "salt", "result"]
    search_fields = ["name", "outcome", "form__name", "evidence__indication__name"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "evidence":
            field.queryset = field.queryset.select_related("form", "indication")
        return field

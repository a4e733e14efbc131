from django import forms
from django.core.exceptions import ValidationError

from monographs.markdown import citation_keys
from monographs.models import Citation, Revision
from monographs.schema import markdown_fields
from monographs.validators import is_blank, validate_no_bidi_controls


class CitationMarkersMixin:
    """Every [@key] in a Markdown field must name an existing citation."""

    def clean(self):
        cleaned_data = super().clean()
        keys_by_field = {
            name: citation_keys(cleaned_data.get(name) or "")
            for name in markdown_fields(self._meta.model.__name__)
            if name in cleaned_data
        }
        wanted = {key for keys in keys_by_field.values() for key in keys}
        known = set(
            Citation.objects.filter(key__in=wanted).values_list("key", flat=True)
        )
        for name, keys in keys_by_field.items():
            unknown = [key for key in keys if key not in known]
            if unknown:
                listed = ", ".join(f"[@{key}]" for key in unknown)
                self.add_error(
                    name,
                    f"No citation has the key {listed}. Add it under Citations first, "
                    "or correct the key.",
                )
        return cleaned_data


class EditSummaryForm(CitationMarkersMixin, forms.ModelForm):
    edit_summary = forms.CharField(
        max_length=500,
        strip=True,
        help_text="Say briefly what you changed and why. It is shown in the history.",
        widget=forms.TextInput(attrs={"size": 80}),
        error_messages={
            "required": "Give an edit summary: every change needs a reason. Nothing was saved."
        },
        validators=[validate_no_bidi_controls],
    )

    def clean_edit_summary(self):
        summary = self.cleaned_data["edit_summary"]
        if is_blank(summary):
            # Zero-width spaces pass "required", and show as "“”" in the history.
            raise ValidationError(
                self.fields["edit_summary"].error_messages["required"],
                code="required",
            )
        return summary


class InlineContentForm(CitationMarkersMixin, forms.ModelForm):
    pass


class BaseRevisionForm(forms.Form):
    """Carries the revision the editor loaded, which a save is merged from.

    The admin merges a save made from an older revision three ways before
    the form sees it (monographs.admin.merge), so the post it validates is
    always based on the latest revision; what both sides changed differently
    is set on the form class as ``merge_conflicts`` and refuses the save
    until the editor has looked at it.
    """

    base_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)
    merge_conflicts = ()

    def monograph_id(self):
        raise NotImplementedError

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["base_revision"] = Revision.objects.latest_number(
                self.monograph_id()
            )

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk is None:
            return cleaned_data
        if self.merge_conflicts:
            labels = "; ".join(conflict.label for conflict in self.merge_conflicts)
            raise ValidationError(
                "Someone else saved this page while you were editing it, and you "
                f"both changed: {labels}. Nothing was saved yet. Your version is kept "
                "in the form; compare it with theirs, then save again.",
                code="conflict",
            )
        # The admin holds the monograph's lock from the merge to the save, so
        # this only fails if the post was not merged (a bad base revision).
        latest = Revision.objects.latest_number(self.monograph_id())
        if cleaned_data.get("base_revision") != latest:
            raise ValidationError(
                "This page was not loaded from the latest revision and could not "
                "be merged with it. Reload the page and make your edit again.",
                code="conflict",
            )
        return cleaned_data


class MonographForm(BaseRevisionForm, EditSummaryForm):
    """The monograph's admin form."""

    def monograph_id(self):
        return self.instance.pk


class MonographRowForm(BaseRevisionForm, EditSummaryForm):
    """A row edited on its own admin page rather than inline."""

    def monograph_id(self):
        return self.instance.form_id

from django import forms
from django.core.exceptions import ValidationError

from monographs.diffs import compare
from monographs.documents import document_load
from monographs.markdown import citation_keys
from monographs.models import Citation, MagnesiumForm, Revision
from monographs.schema import markdown_fields


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
    )


class InlineContentForm(CitationMarkersMixin, forms.ModelForm):
    pass


def describe_conflict(form_id, base_number, latest_number):
    """Words for what was saved between ``base_number`` and ``latest_number``."""
    revisions = list(
        Revision.objects.for_form(form_id)
        .filter(number__gt=base_number or 0, number__lte=latest_number)
        .select_related("user")
        .order_by("number")
    )
    saved = "; ".join(
        f"revision {revision.number} by {revision.author_name} "
        f"at {revision.created_at:%H:%M} (“{revision.summary or 'no summary'}”)"
        for revision in revisions
    )
    revisions = Revision.objects.with_document().for_form(form_id)
    old = revisions.filter(number=base_number).first()
    new = revisions.get(number=latest_number)
    changed = compare(document_load(old) if old else None, document_load(new)).summary()
    return (
        "Someone else saved this monograph while you were editing it, so your changes "
        f"were not saved. Saved meanwhile: {saved}. Changed: "
        f"{', '.join(changed) or 'nothing visible'}. Reload the page to get the "
        "current version, then make your edit again."
    )


class StaleCopyGuard(forms.Form):
    """Refuses a save made from a copy older than the monograph's latest revision."""

    base_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

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
        form_id = self.monograph_id()
        # Locked until the admin's transaction ends, so that a second editor
        # saving at the same moment waits, then sees this save's revision.
        MagnesiumForm.objects.select_for_update().filter(pk=form_id).exists()
        latest = Revision.objects.latest_number(form_id)
        base = cleaned_data.get("base_revision")
        if base != latest:
            raise ValidationError(
                describe_conflict(form_id, base, latest), code="conflict"
            )
        return cleaned_data


class MonographForm(StaleCopyGuard, EditSummaryForm):
    """The monograph's admin form."""

    def monograph_id(self):
        return self.instance.pk


class MonographRowForm(StaleCopyGuard, EditSummaryForm):
    """A row edited on its own admin page rather than inline."""

    def monograph_id(self):
        return self.instance.form_id

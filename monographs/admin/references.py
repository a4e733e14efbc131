"""The admin's reference import: paste or upload, preview, then import."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from monographs.references_import import (
    FORMAT_CHOICES,
    MAX_CHARACTERS,
    ReferenceFormatError,
    import_plan,
    plan_digest,
    references_parse,
)
from monographs.services import ImportRefused, citations_import

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class ReferenceImportForm(forms.Form):
    text = forms.CharField(
        label="Paste references",
        required=False,
        strip=False,
        max_length=MAX_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 14, "cols": 90, "spellcheck": "false"}),
        help_text="An export from Zotero, EndNote, Mendeley or PubMed.",
    )
    upload = forms.FileField(
        label="or upload a file",
        required=False,
        help_text=".ris, .bib, .json or PubMed's .nbib / .txt, at most 2 MB, UTF-8.",
    )
    format = forms.ChoiceField(choices=FORMAT_CHOICES, initial="auto")
    edit_summary = forms.CharField(
        max_length=500,
        strip=True,
        help_text="Say where the references come from and why they are added. "
        "It is kept in the history of every citation written.",
        widget=forms.TextInput(attrs={"size": 80}),
        error_messages={
            "required": "Give an edit summary: every change needs a reason. "
            "Nothing was imported."
        },
    )
    digest = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        text = cleaned.get("text") or ""
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(
                    f"{upload.name} is {upload.size:,} bytes; upload at most "
                    f"{MAX_UPLOAD_BYTES:,}."
                )
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise forms.ValidationError(
                    f"{upload.name} is not UTF-8 text (byte {error.start:,}). "
                    "Export it again as UTF-8."
                ) from None
        elif not text.strip():
            raise forms.ValidationError("Paste references or choose a file.")
        cleaned["text"] = text.replace("\r\n", "\n").replace("\r", "\n")
        return cleaned


def reference_import_view(request, model_admin):
    """GET: the form. POST 'preview': what would change. POST 'import': do it."""
    if not model_admin.has_add_permission(request) or not (
        model_admin.has_change_permission(request)
    ):
        raise PermissionDenied
    form = ReferenceImportForm(request.POST or None, request.FILES or None)
    plan = fmt = None
    problem = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            fmt, records = references_parse(data["text"], data["format"])
        except ReferenceFormatError as error:
            problem = str(error)
        else:
            plan = import_plan(records)
            digest = plan_digest(plan)
            if "import" in request.POST and data["digest"] == digest:
                try:
                    created, updated = citations_import(
                        plan=plan, user=request.user, reason=data["edit_summary"]
                    )
                except ImportRefused as error:
                    problem = str(error)
                else:
                    messages.success(
                        request,
                        f"Imported {created} new and updated {updated} existing "
                        "citations. Monographs citing an updated one wait for review.",
                    )
                    return HttpResponseRedirect(
                        reverse("admin:monographs_citation_changelist")
                    )
            elif "import" in request.POST:
                problem = (
                    "The citations changed since this preview, or the input did: "
                    "check the preview again before importing."
                )
            # The preview is confirmed with the same text, as text.
            form = ReferenceImportForm(
                initial={**data, "upload": None, "digest": digest},
            )
    counts = {}
    for item in plan or []:
        counts[item.action] = counts.get(item.action, 0) + 1
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Import references",
        "form": form,
        "plan": plan,
        "format": dict(FORMAT_CHOICES).get(fmt),
        "problem": problem,
        "counts": counts,
        "has_errors": any(item.errors for item in plan or []),
        "can_import": plan is not None
        and not any(item.errors for item in plan)
        and any(item.action != "unchanged" for item in plan),
    }
    refused = problem is not None or context["has_errors"] or plan is None
    status = 400 if request.method == "POST" and refused else 200
    return TemplateResponse(
        request, "admin/monographs/citation/import.html", context, status=status
    )

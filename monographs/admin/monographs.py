import re
from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from monographs import services
from monographs.admin.base import (
    MAX_COMMENT_LENGTH,
    ContentAdmin,
    ContentInline,
    posted_text,
)
from monographs.admin.dashboard import next_review, review_cycle
from monographs.admin.forms import MonographForm
from monographs.admin.merge import FormsetSpec, MergesStaleSaves, PostShape
from monographs.admin.studies import StudyInline
from monographs.diffs import compare
from monographs.documents import document_load
from monographs.markdown import citation_keys
from monographs.models import (
    FAQ,
    Dose,
    Evidence,
    FormSideEffect,
    Interaction,
    MagnesiumForm,
    Precaution,
    Publication,
    ReviewEvent,
    Revision,
    Synonym,
)
from monographs.permissions import can_publish
from monographs.schema import ROW_KINDS_BY_NAME, normalize_text
from monographs.services.merging import FORM
from monographs.views.params import whole_number


@dataclass
class PendingChanges:
    """What approving a monograph's latest revision would change for readers."""

    latest: Revision | None
    diff: object  # a diffs.MonographDiff, or None without revisions
    warnings: list
    # The revision the diff starts from: the published one; before a
    # deletion, the last one published; None if never published.
    baseline: Revision | None = None
    # The deletion readers see now, when the monograph was deleted and recovered.
    deleted_by: Revision | None = None


class SynonymInline(ContentInline):
    model = Synonym
    prepopulated_fields = {"slug": ["name"]}
    fields = [("name", "slug")]


class EvidenceInline(ContentInline):
    model = Evidence
    autocomplete_fields = ["indication", "citations"]
    fields = [
        ("indication", "outcome", "direction", "certainty"),
        ("risk_of_bias", "risk_of_bias_reason"),
        ("inconsistency", "inconsistency_reason"),
        ("indirectness", "indirectness_reason"),
        ("imprecision", "imprecision_reason"),
        ("publication_bias", "publication_bias_reason"),
        ("rated_by", "rated_on"),
        "summary",
        "citations",
    ]


class FormSideEffectInline(ContentInline):
    model = FormSideEffect
    verbose_name = "side effect"
    verbose_name_plural = "side effects"
    autocomplete_fields = ["side_effect", "citations"]
    fields = [("side_effect", "frequency", "seriousness"), "notes", "citations"]


class DoseInline(ContentInline):
    model = Dose
    autocomplete_fields = ["citations"]
    fields = [
        ("population", "age_band", "life_stage", "route"),
        ("purpose", "minimum_mg", "maximum_mg", "timing"),
        "exceeds_ul_acknowledged",
        "notes",
        "citations",
        "position",
    ]


class InteractionInline(ContentInline):
    model = Interaction
    autocomplete_fields = ["citations"]
    fields = [
        ("drug_class", "examples", "significance"),
        "mechanism",
        "management",
        "citations",
        "position",
    ]


class PrecautionInline(ContentInline):
    model = Precaution
    autocomplete_fields = ["citations"]
    fields = [("label", "kind", "position"), "text", "citations"]


class FAQInline(ContentInline):
    model = FAQ
    fields = [("question", "position"), "answer"]


class StatusFilter(admin.SimpleListFilter):
    """Workflow state is read from the review events, not stored on the row."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return MagnesiumForm.Status.choices

    def queryset(self, request, queryset):
        if self.value() in MagnesiumForm.Status.values:
            return queryset.filter(workflow_status=self.value())
        return queryset


def error_summary(form, inline_admin_formsets):
    """Every error on the page, each with the id of the field it is about."""
    errors = []
    for name, messages_ in form.errors.items():
        if name == "__all__":
            anchor = "merge-heading" if form.merge_conflicts else "content-main"
            errors += [
                {"label": "This page", "message": m, "anchor": anchor}
                for m in messages_
            ]
            continue
        field = form.fields.get(name)
        label = (field and field.label) or capfirst(name.replace("_", " "))
        anchor = form[name].id_for_label if name in form.fields else "content-main"
        errors += [{"label": label, "message": m, "anchor": anchor} for m in messages_]
    for inline in inline_admin_formsets:
        formset = inline.formset
        plural = capfirst(inline.opts.verbose_name_plural)
        for message in formset.non_form_errors():
            errors.append(
                {
                    "label": plural,
                    "message": message,
                    "anchor": f"{formset.prefix}-heading",
                }
            )
        for index, row in enumerate(formset.forms):
            for name, messages_ in row.errors.items():
                in_form = name in row.fields and name != "__all__"
                label = f"{capfirst(inline.opts.verbose_name)} #{index + 1}"
                if in_form:
                    field_label = row.fields[name].label or name.replace("_", " ")
                    label = f"{label}: {field_label}"
                anchor = (
                    row[name].id_for_label if in_form else f"{formset.prefix}-{index}"
                )
                errors += [
                    {"label": label, "message": m, "anchor": anchor} for m in messages_
                ]
    return errors


def ul_warnings(state):
    return [dose for dose in state.doses if dose.exceeds_ul] if state else []


@admin.register(MagnesiumForm)
class MagnesiumFormAdmin(MergesStaleSaves, ContentAdmin):
    form = MonographForm
    change_form_template = "admin/monographs/magnesiumform/change_form.html"
    change_list_template = "admin/monographs/magnesiumform/change_list.html"
    list_display = [
        "name",
        "category",
        "elemental_mg_percent",
        "status_display",
        "published_number",
        "next_review_display",
    ]
    list_filter = [StatusFilter, "category"]
    search_fields = ["name", "synonyms__name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [
        SynonymInline,
        EvidenceInline,
        FormSideEffectInline,
        DoseInline,
        InteractionInline,
        PrecautionInline,
        FAQInline,
        StudyInline,
    ]
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "salt"]}),
        (
            "Composition",
            {
                "fields": [
                    "formula_basis",
                    "elemental_mg_percent",
                    "composition_note",
                    "absorption_notes",
                    "tolerability_notes",
                ]
            },
        ),
        (
            "Sections",
            {
                "fields": [
                    "summary",
                    "usage",
                    "mechanism",
                    "dosage_notes",
                    "precaution_notes",
                    "disclaimer",
                ]
            },
        ),
        (
            "Imported, not yet placed",
            {"classes": ["collapse"], "fields": ["other_sections"]},
        ),
        ("Notes for editors (never shown to readers)", {"fields": ["editor_notes"]}),
    ]
    # The edit summary and the base revision are in the sticky action bar
    # (change_form.html), beside the buttons that save.

    def monograph_pk(self, obj):
        return obj.pk

    def post_shape(self, request, obj):
        formsets = [
            FormsetSpec(prefix, dict(formset.form.base_fields))
            for formset, _ in self.get_formsets_with_inlines(request, obj)
            if (prefix := formset.get_default_prefix()) in ROW_KINDS_BY_NAME
        ]
        return PostShape(
            main_kind=FORM,
            main_row_id=None,
            main_fields=dict(self.get_form(request, obj, change=True).base_fields),
            formsets=formsets,
        )

    def get_queryset(self, request):
        published = Publication.objects.live().filter(form_id=OuterRef("pk"))
        human_reviews = ReviewEvent.objects.filter(
            form_id=OuterRef("pk"),
            action=ReviewEvent.Action.APPROVED,
            user__isnull=False,
        ).order_by("-created_at")
        return (
            super()
            .get_queryset(request)
            .with_status()
            .annotate(
                published_number=Subquery(published.values("revision__number")[:1]),
                last_human_review=Subquery(human_reviews.values("created_at")[:1]),
            )
        )

    @admin.display(description="next review", ordering="last_human_review")
    def next_review_display(self, form):
        if form.last_human_review is None:
            return "due now (never reviewed by a person)"
        due = form.last_human_review + review_cycle()
        overdue = " (overdue)" if due <= timezone.now() else ""
        return f"{due:%-d %b %Y}{overdue}"

    @admin.display(description="status", ordering="workflow_status")
    def status_display(self, form):
        return MagnesiumForm.Status(form.workflow_status).label

    @admin.display(description="published revision", ordering="published_number")
    def published_number(self, form):
        return form.published_number or "—"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._point_out_unused_citations(request, form.instance)

    def _point_out_unused_citations(self, request, monograph):
        unused = []
        for kind in ROW_KINDS_BY_NAME.values():
            if not kind.cites:
                continue
            for row in getattr(monograph, kind.name).prefetch_related("citations"):
                text = "\n".join(getattr(row, name) for name in kind.markdown_fields)
                if not text.strip():
                    continue
                cited = set(citation_keys(text))
                unused += [
                    f"{row}: {citation.key}"
                    for citation in row.citations.all()
                    if citation.key not in cited
                ]
        if unused:
            messages.warning(
                request,
                "Attached but not cited in the text (readers see them as extra "
                "references): " + "; ".join(unused),
            )

    # Workflow and history views.

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path(
                "review-queue/",
                view(self.review_queue_view),
                name=f"{prefix}_review_queue",
            ),
            path(
                "deleted/",
                view(self.deleted_view),
                name=f"{prefix}_deleted",
            ),
            path(
                "deleted/<int:form_id>/recover/",
                view(require_POST(self.recover_view)),
                name=f"{prefix}_recover",
            ),
            path(
                "<path:object_id>/revisions/",
                view(self.revisions_view),
                name=f"{prefix}_revisions",
            ),
            path(
                "<path:object_id>/revisions/<int:number>/revert/",
                view(self.revert_view),
                name=f"{prefix}_revert",
            ),
            path(
                "<path:object_id>/revisions/<int:number>/undo/",
                view(self.undo_view),
                name=f"{prefix}_undo",
            ),
            path(
                "<path:object_id>/submit/",
                view(require_POST(self.submit_view)),
                name=f"{prefix}_submit",
            ),
            path(
                "<path:object_id>/review/",
                view(self.review_view),
                name=f"{prefix}_review",
            ),
            *super().get_urls(),
        ]

    def _url(self, name, *args):
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args
        )

    def _get_monograph(self, request, object_id, *, permission="view"):
        monograph = self.get_object(request, object_id)
        if monograph is None:
            raise Http404("No such monograph.")
        allowed = {
            "view": self.has_view_permission,
            "change": self.has_change_permission,
        }[permission](request, monograph)
        if not allowed:
            raise PermissionDenied
        return monograph

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            **extra,
        }

    def pending_changes(self, monograph):
        """What approving would change for readers: a ``PendingChanges``."""
        latest = Revision.objects.with_document().latest_for(monograph.pk)
        if latest is None:
            return PendingChanges(None, None, [])
        new = document_load(latest)
        publication = (
            Publication.objects.select_related("revision")
            .filter(form_id=monograph.pk)
            .first()
        )
        baseline = deleted_by = None
        if publication is not None and publication.withdrawn:
            # Deleted, now recovered: readers see nothing, but the reviewer
            # compares with what they saw before the deletion (an empty
            # monograph would show every line as new).
            deleted_by = publication.revision
            approval = (
                ReviewEvent.objects.filter(
                    form_id=monograph.pk,
                    action=ReviewEvent.Action.APPROVED,
                    revision__deleted=False,
                )
                .select_related("revision")
                .order_by("-created_at", "-pk")
                .first()
            )
            baseline = approval.revision if approval else None
        elif publication is not None:
            baseline = publication.revision
        old = document_load(baseline) if baseline else None
        return PendingChanges(
            latest, compare(old, new), ul_warnings(new), baseline, deleted_by
        )

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        context["error_summary"] = error_summary(
            context["adminform"].form, context.get("inline_admin_formsets", [])
        )
        status = MagnesiumForm.Status(obj.status) if obj else None
        context["can_submit_on_save"] = (
            self.has_change_permission(request, obj)
            and status != MagnesiumForm.Status.IN_REVIEW
        )
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    def response_add(self, request, obj, post_url_continue=None):
        if "_submit_for_review" in request.POST:
            return self._submit_after_save(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_submit_for_review" in request.POST:
            return self._submit_after_save(request, obj)
        return super().response_change(request, obj)

    def _submit_after_save(self, request, monograph):
        """Save and submit in one step: the submission is part of the save's
        transaction, once its revision is written (ContentAdmin); a monograph
        already in review keeps its submission."""
        request._after_revision = [
            *getattr(request, "_after_revision", []),
            lambda: self._submit(request, monograph),
        ]
        return HttpResponseRedirect(self._url("change", monograph.pk))

    def _submit(self, request, monograph):
        try:
            services.monograph_submit(
                form=monograph,
                user=request.user,
                comment=posted_text(request, "edit_summary"),
            )
        except services.WorkflowError as error:
            messages.warning(request, f"{monograph} was saved, not submitted: {error}")
        else:
            messages.success(
                request, f"{monograph} was saved and submitted for review."
            )

    def saved_messages(self, deferred, *, object_id, revisions):
        """A save of a monograph that wrote no revision says so, instead of
        Django's "was changed successfully" (as a CRLF resubmission, or an
        untouched form with a summary, writes none)."""
        form_id = whole_number(object_id)
        if form_id is None or form_id in revisions:
            return deferred
        return [
            (NOTHING_CHANGED, messages.INFO, (), {})
            if level == messages.SUCCESS
            else (message, level, args, kwargs)
            for message, level, args, kwargs in deferred
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        monograph = self.get_object(request, object_id)
        if monograph is None and request.method == "POST":
            deleted = self._deleted_while_editing(request, object_id)
            if deleted is not None:
                return deleted
        extra_context = extra_context or {}
        if monograph is not None:
            status = MagnesiumForm.Status(monograph.status)
            published = monograph.published_revision
            latest_number = Revision.objects.latest_number(monograph.pk)
            last_reviewed, next_due = next_review(monograph.pk)
            extra_context.update(
                monograph=monograph,
                status=status,
                published_number=published.number if published else None,
                can_submit=status
                in {
                    MagnesiumForm.Status.DRAFT,
                    MagnesiumForm.Status.CHANGES_REQUESTED,
                    MagnesiumForm.Status.PUBLISHED_WITH_CHANGES,
                }
                and (published is None or published.number != latest_number),
                latest_number=latest_number,
                last_event=monograph.review_events.select_related("user").first(),
                can_publish=can_publish(request.user),
                last_reviewed=last_reviewed,
                next_review=next_due,
                review_overdue=next_due is not None and next_due <= timezone.now(),
                ul_limit_doses=[
                    dose for dose in monograph.doses.all() if dose.exceeds_ul
                ],
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def review_queue_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        entries = []
        for monograph in MagnesiumForm.objects.awaiting_review():
            pending = self.pending_changes(monograph)
            submitted = (
                monograph.review_events.filter(action=ReviewEvent.Action.SUBMITTED)
                .select_related("user", "revision")
                .defer("revision__document")
                .first()
            )
            entries.append(
                {
                    "monograph": monograph,
                    "pending": pending,
                    "submitted": submitted,
                    "review_url": self._url("review", monograph.pk),
                }
            )
        return TemplateResponse(
            request,
            "admin/monographs/magnesiumform/review_queue.html",
            self._context(request, "Monographs awaiting review", entries=entries),
        )

    def review_view(self, request, object_id):
        if request.method == "POST" and self.get_object(request, object_id) is None:
            # Deleted while the reviewer read it: say so, comment kept.
            deleted = self._deleted_while_editing(request, object_id)
            if deleted is not None:
                return deleted
        monograph = self._get_monograph(request, object_id)
        if request.method == "POST":
            if not can_publish(request.user):
                raise PermissionDenied
            return self._decide(request, monograph)
        return self._review_page(request, monograph)

    def _review_page(
        self, request, monograph, *, comment="", status=200, reviewed=None
    ):
        """The review page; ``reviewed``: the number of the revision the
        reviewer decided on, when a newer one was saved meanwhile (its changes
        since are shown first)."""
        pending = self.pending_changes(monograph)
        latest = pending.latest
        since_reviewed = None
        if reviewed is not None and latest is not None and reviewed < latest.number:
            older = (
                Revision.objects.with_document()
                .for_form(monograph.pk)
                .filter(number=reviewed)
                .first()
            )
            if older is not None:
                since_reviewed = (
                    older,
                    compare(document_load(older), document_load(latest)),
                )
        baseline = pending.baseline
        approving = (
            Revision.objects.for_form(monograph.pk)
            .filter(
                number__gt=baseline.number if baseline else 0,
                number__lte=latest.number if latest else 0,
            )
            .select_related("user")
            .order_by("number")
        )
        return TemplateResponse(
            request,
            "admin/monographs/magnesiumform/review.html",
            self._context(
                request,
                f"Review {monograph}",
                monograph=monograph,
                pending=pending,
                latest=latest,
                since_reviewed=since_reviewed,
                approving=approving,
                can_publish=can_publish(request.user),
                events=monograph.review_events.select_related("user", "revision").defer(
                    "revision__document"
                )[:10],
                comment=comment,
            ),
            status=status,
        )

    def _decide(self, request, monograph):
        decision = request.POST.get("decision")
        comment = posted_text(
            request, "comment", strip=False, max_length=MAX_COMMENT_LENGTH
        )
        try:
            number = int(request.POST.get("revision", ""))
        except ValueError:
            # Only a hand-made post lacks it: the page again, with a 400.
            messages.error(request, "The form did not say which revision you reviewed.")
            return self._review_page(request, monograph, comment=comment, status=400)
        try:
            if decision == "approve":
                services.monograph_approve(
                    form=monograph,
                    user=request.user,
                    revision_number=number,
                    comment=comment,
                )
                messages.success(
                    request, f"Revision {number} of {monograph} is published."
                )
            elif decision == "request-changes":
                services.monograph_request_changes(
                    form=monograph,
                    user=request.user,
                    revision_number=number,
                    comment=comment,
                )
                messages.success(request, f"Changes requested for {monograph}.")
            else:
                messages.error(request, "Choose to approve or to request changes.")
                return self._review_page(
                    request, monograph, comment=comment, status=400
                )
        except services.WorkflowError as error:
            # The page again, with what changed since and the comment as
            # typed: a redirect would throw the reviewer's words away.
            messages.error(request, str(error))
            status = 400 if isinstance(error, services.IncompleteDecision) else 409
            return self._review_page(
                request, monograph, comment=comment, status=status, reviewed=number
            )
        return HttpResponseRedirect(self._url("review_queue"))

    def submit_view(self, request, object_id):
        monograph = self._get_monograph(request, object_id, permission="change")
        try:
            services.monograph_submit(
                form=monograph,
                user=request.user,
                comment=posted_text(
                    request, "comment", strip=False, max_length=MAX_COMMENT_LENGTH
                ),
            )
        except services.WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{monograph} is submitted for review.")
        return HttpResponseRedirect(
            reverse("admin:monographs_magnesiumform_change", args=[monograph.pk])
        )

    def revisions_view(self, request, object_id):
        monograph = self._get_monograph(request, object_id)
        revisions = list(
            Revision.objects.for_form(monograph.pk)
            .select_related("user")
            .order_by("-number")
        )
        approvals = {
            event.revision_id: event
            for event in ReviewEvent.objects.filter(
                form=monograph, action=ReviewEvent.Action.APPROVED
            ).select_related("user")
        }
        latest_digest = revisions[0].digest if revisions else None
        for index, revision in enumerate(revisions):
            revision.approval = approvals.get(revision.pk)
            previous = revisions[index + 1] if index + 1 < len(revisions) else None
            # Reverting to what the monograph already holds would change nothing.
            revision.can_revert = not revision.deleted and (
                revision.digest != latest_digest
            )
            revision.can_undo = (
                previous is not None and not revision.deleted and not previous.deleted
            )
        return TemplateResponse(
            request,
            "admin/monographs/magnesiumform/revisions.html",
            self._context(
                request,
                f"Revisions of {monograph}",
                monograph=monograph,
                published_id=monograph.published_revision_id,
                revisions=revisions,
                can_change=self.has_change_permission(request, monograph),
            ),
        )

    def revert_view(self, request, object_id, number):
        """Revert asks first: what would change, and why (required)."""
        monograph = self._get_monograph(request, object_id, permission="change")
        revisions = Revision.objects.with_document().for_form(monograph.pk)
        target = revisions.filter(number=number).first()
        latest = revisions.order_by("-number").first()
        if target is None or target.deleted:
            raise Http404("No such revision to revert to.")
        if target.digest == latest.digest:
            messages.error(
                request, f"Revision {number} is the same as the current content."
            )
            return HttpResponseRedirect(self._url("revisions", monograph.pk))
        reason = posted_text(request, "reason")
        stale = self._stale_confirmation(request, latest)
        if request.method == "POST" and reason and not stale:
            try:
                revision = services.monograph_revert(
                    form=monograph,
                    user=request.user,
                    revision_number=number,
                    reason=reason,
                )
            except services.WorkflowError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    f"{monograph} is back to revision {number}, saved as revision "
                    f"{revision.number}. It needs review before readers see it.",
                )
            return HttpResponseRedirect(self._url("revisions", monograph.pk))
        return self._confirm(
            request,
            monograph,
            title=f"Revert {monograph} to revision {number}?",
            action=f"Revert to revision {number}",
            target=target,
            latest=latest,
            diff=compare(document_load(latest), document_load(target)),
            missing_reason=request.method == "POST" and not reason,
            stale=stale,
            reason=reason,
        )

    def undo_view(self, request, object_id, number):
        """Undo one revision's changes, keeping later edits: shown, then done."""
        monograph = self._get_monograph(request, object_id, permission="change")
        try:
            latest, target, result, undone = services.monograph_undo_preview(
                form=monograph, revision_number=number
            )
        except services.WorkflowError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(self._url("revisions", monograph.pk))
        reason = posted_text(request, "reason")
        # With conflicts nothing can be confirmed, stale or not.
        stale = not result.conflicts and self._stale_confirmation(request, latest)
        if request.method == "POST" and reason and not result.conflicts and not stale:
            try:
                revision = services.monograph_undo(
                    form=monograph,
                    user=request.user,
                    revision_number=number,
                    reason=reason,
                )
            except services.WorkflowError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    f"The changes of revision {number} are undone, saved as revision "
                    f"{revision.number}. It needs review before readers see it.",
                )
            return HttpResponseRedirect(self._url("revisions", monograph.pk))
        diff = compare(document_load(latest), document_load(None, undone))
        return self._confirm(
            request,
            monograph,
            title=f"Undo revision {number} of {monograph}?",
            action=f"Undo revision {number}",
            target=target,
            latest=latest,
            diff=diff,
            conflicts=result.conflicts,
            nothing_to_do=not result.conflicts and not diff.summary(),
            missing_reason=request.method == "POST" and not reason,
            stale=stale,
            reason=reason,
        )

    def _deleted_while_editing(self, request, object_id):
        """A save posted after the monograph was deleted: the page says who
        deleted it and why, and gives back every text the editor typed (409).
        Django's admin would redirect to the index, the typing lost."""
        form_id = whole_number(object_id)
        # A deleted monograph's latest revision is its deletion.
        deletion = Revision.objects.latest_for(form_id) if form_id is not None else None
        if deletion is None or not deletion.deleted:
            return None
        if not self.has_view_permission(request):
            return None
        before = Revision.objects.with_document().latest_content_for(form_id)
        typed = _typed_changes(
            request.POST, document_load(before) if before is not None else None
        )
        response = TemplateResponse(
            request,
            "admin/monographs/magnesiumform/deleted_while_editing.html",
            self._context(
                request,
                f"{deletion.name} was deleted meanwhile",
                deletion=deletion,
                typed=typed,
                can_recover=self.has_delete_permission(request),
            ),
        )
        response.status_code = 409
        return response

    @staticmethod
    def _stale_confirmation(request, latest):
        """Whether the confirmation was posted from a page showing an older
        latest revision: what it showed would change is no longer what would.
        (A post without the number, from an older page, is taken as stale.)"""
        if request.method != "POST":
            return False
        return whole_number(request.POST.get("latest")) != latest.number

    def _confirm(self, request, monograph, *, missing_reason, stale=False, **context):
        response = TemplateResponse(
            request,
            "admin/monographs/magnesiumform/confirm_revision.html",
            self._context(
                request,
                context.pop("title"),
                monograph=monograph,
                missing_reason=missing_reason,
                stale=stale,
                **context,
            ),
        )
        if missing_reason:
            response.status_code = 400
        elif stale:
            response.status_code = 409
        return response

    def deleted_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "admin/monographs/magnesiumform/deleted.html",
            self._context(
                request,
                "Deleted monographs",
                deleted=[
                    (revision, self._url("recover", revision.form_id))
                    for revision in services.deleted_monographs()
                ],
                # Recovering undoes a deletion: it takes the same permission.
                can_recover=self.has_delete_permission(request),
            ),
        )

    def recover_view(self, request, form_id):
        if not self.has_delete_permission(request):
            raise PermissionDenied
        try:
            services.monograph_recover(form_id=form_id, user=request.user)
        except services.WorkflowError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(self._url("deleted"))
        monograph = get_object_or_404(MagnesiumForm, pk=form_id)
        messages.success(
            request,
            f"Recovered {monograph}. It needs review before readers see it again.",
        )
        return HttpResponseRedirect(
            reverse("admin:monographs_magnesiumform_change", args=[monograph.pk])
        )


NOTHING_CHANGED = "Nothing was changed, so no revision was saved."

# What a change form posts besides what the editor typed.
_NOT_TYPED_RE = re.compile(
    r"csrfmiddlewaretoken|base_revision|merge_.*|_save.*|_continue|_addanother"
    r"|decision|revision"
    r"|.*__prefix__.*|.*-(TOTAL_FORMS|INITIAL_FORMS|MIN_NUM_FORMS|MAX_NUM_FORMS|"
    r"id|form|position|DELETE|citations)"
)
_ROW_FIELD_RE = re.compile(r"(\w+?)-(\d+)-(\w+)")


def _typed_changes(post, state):
    """[(label, value)] of what a change form posted that differs from the
    monograph as ``state`` held it (all of it if ``state`` is None)."""
    rows = (
        {
            kind.name: (kind, {row.pk: row for row in found})
            for kind, found in state.rows()
        }
        if state is not None
        else {}
    )
    typed = []
    for name, value in post.items():
        if not value.strip() or _NOT_TYPED_RE.fullmatch(name):
            continue
        row_field = _ROW_FIELD_RE.fullmatch(name)
        if row_field:
            prefix, index, field_name = row_field.groups()
            kind, by_id = rows.get(prefix, (None, {}))
            row_id = whole_number(post.get(f"{prefix}-{index}-id"))
            instance = by_id.get(row_id)
            model = kind.model if kind is not None else None
            where = f"{kind.label if kind else prefix} {int(index) + 1}: "
        else:
            field_name, instance = name, state.form if state is not None else None
            model, where = MagnesiumForm, ""
        try:
            field = model._meta.get_field(field_name) if model else None
        except FieldDoesNotExist:
            field = None
        label = capfirst(field.verbose_name if field else field_name.replace("_", " "))
        label = f"{where}{label}"
        if instance is not None and field is not None:
            held = getattr(instance, field.attname)
            if normalize_text(str(held if held is not None else "")) == normalize_text(
                value
            ):
                continue
        typed.append((label, value))
    return typed

from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, TemplateView

from monographs.models import (
    Citation,
    Evidence,
    FormSideEffect,
    Indication,
    MagnesiumForm,
    ReviewEvent,
    Revision,
    SideEffect,
    Synonym,
)
from monographs.pages import MonographPage
from monographs.permissions import can_see_drafts
from monographs.snapshots import published_forms, published_records, snapshot


class HomeView(TemplateView):
    template_name = "monographs/home.html"

    def get_context_data(self, **kwargs):
        indication_ids = published_records(Evidence).values("indication_id")
        return super().get_context_data(
            forms=published_forms(),
            indications=Indication.objects.filter(pk__in=indication_ids),
            **kwargs,
        )


class FormListView(TemplateView):
    template_name = "monographs/magnesiumform_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(forms=published_forms(), **kwargs)


class MonographMixin:
    """Finds the monograph named in the URL; a synonym's slug redirects to it."""

    def get_form_queryset(self):
        if can_see_drafts(self.request.user):
            return MagnesiumForm.objects.all()
        return MagnesiumForm.objects.published()

    def dispatch(self, request, *args, **kwargs):
        slug = kwargs["slug"]
        self.monograph = self.get_form_queryset().filter(slug=slug).first()
        if self.monograph is None:
            synonym = Synonym.objects.filter(
                slug=slug, form__in=self.get_form_queryset()
            ).first()
            if synonym is None:
                raise Http404("No monograph has this address.")
            target = request.get_full_path().replace(
                f"/forms/{slug}/", f"/forms/{synonym.form.slug}/", 1
            )
            return HttpResponsePermanentRedirect(target)
        return super().dispatch(request, *args, **kwargs)

    def get_revision(self):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        revision = self.get_revision()
        state = snapshot(revision)
        if state is None:
            raise Http404("This revision deleted the monograph.")
        approval = (
            ReviewEvent.objects.filter(
                revision=self.monograph.published_revision,
                action=ReviewEvent.Action.APPROVED,
            )
            .select_related("user")
            .first()
        )
        return super().get_context_data(
            form=state.form,
            page=MonographPage(state),
            revision=revision,
            monograph=self.monograph,
            approval=approval,
            latest_number=Revision.objects.latest_number(self.monograph.pk),
            **kwargs,
        )


class FormDetailView(MonographMixin, TemplateView):
    """The published monograph, as a reviewer last approved it."""

    template_name = "monographs/magnesiumform_detail.html"

    def get_form_queryset(self):
        return MagnesiumForm.objects.published()

    def get_revision(self):
        return self.monograph.published_revision


class FormDraftView(MonographMixin, TemplateView):
    """Staff preview of the latest revision, approved or not."""

    template_name = "monographs/magnesiumform_draft.html"

    def dispatch(self, request, *args, **kwargs):
        # A 404, not a 403: readers should not learn which drafts exist.
        if not can_see_drafts(request.user):
            raise Http404("No monograph has this address.")
        return super().dispatch(request, *args, **kwargs)

    def get_revision(self):
        return Revision.objects.for_form(self.monograph.pk).order_by("-number").first()


class RevisionDetailView(MonographMixin, TemplateView):
    """A permanent link to one revision, exactly as it was."""

    template_name = "monographs/revision_detail.html"

    def get_revision(self):
        revisions = Revision.objects.for_form(self.monograph.pk)
        if not can_see_drafts(self.request.user):
            revisions = revisions.published()
        return get_object_or_404(revisions, number=self.kwargs["number"])


class IndicationDetailView(DetailView):
    model = Indication

    def get_context_data(self, **kwargs):
        forms = {form.pk: form for form in published_forms()}
        evidence = []
        for record in published_records(Evidence, indication_id=self.object.pk):
            row = record.instance
            row.form = forms[row.form_id]
            evidence.append(row)
        evidence.sort(key=lambda row: row.form.name)
        return super().get_context_data(evidence=evidence, **kwargs)


class SideEffectDetailView(DetailView):
    model = SideEffect

    def get_context_data(self, **kwargs):
        forms = {form.pk: form for form in published_forms()}
        reports = []
        for record in published_records(FormSideEffect, side_effect_id=self.object.pk):
            row = record.instance
            row.form = forms[row.form_id]
            reports.append(row)
        reports.sort(key=lambda row: row.form.name)
        return super().get_context_data(reports=reports, **kwargs)


class CitationDetailView(DetailView):
    model = Citation

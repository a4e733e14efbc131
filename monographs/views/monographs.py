from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import TemplateView

from monographs.models import MagnesiumForm, ReviewEvent, Revision, Synonym
from monographs.pages import MonographPage
from monographs.permissions import can_see_drafts
from monographs.snapshots import snapshot
from monographs.structured_data import json_ld_script, monograph_graph


class MonographMixin:
    """Finds the monograph named in the URL; a synonym's slug redirects to it."""

    def get_form_queryset(self):
        if can_see_drafts(self.request.user):
            return MagnesiumForm.objects.all()
        return MagnesiumForm.objects.published()

    def dispatch(self, request, *args, **kwargs):
        slug = kwargs["slug"]
        forms = self.get_form_queryset()
        self.monograph = (
            forms.select_related("published_revision").filter(slug=slug).first()
        )
        if self.monograph is None:
            synonym = Synonym.objects.filter(slug=slug, form__in=forms).first()
            if synonym is None:
                raise Http404("No monograph has this address.")
            target = request.get_full_path().replace(
                f"/forms/{slug}/", f"/forms/{synonym.form.slug}/", 1
            )
            return HttpResponsePermanentRedirect(target)
        return super().dispatch(request, *args, **kwargs)


class MonographPageMixin(MonographMixin):
    """Renders one revision of the monograph on the public template."""

    def get_revision(self):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        revision = self.get_revision()
        state = snapshot(revision)
        if state is None:
            raise Http404("This revision deleted the monograph.")
        page = MonographPage(state)
        approval = (
            ReviewEvent.objects.filter(
                revision_id=self.monograph.published_revision_id,
                action=ReviewEvent.Action.APPROVED,
            )
            .select_related("user")
            .first()
        )
        crumbs = [
            ("Home", reverse("monographs:home")),
            ("Forms", reverse("monographs:form-list")),
            (state.form.name, state.form.get_absolute_url()),
        ]
        return super().get_context_data(
            form=state.form,
            page=page,
            revision=revision,
            monograph=self.monograph,
            approval=approval,
            crumbs=crumbs,
            json_ld=json_ld_script(
                monograph_graph(self.request, page, approval, crumbs)
            ),
            latest_number=Revision.objects.latest_number(self.monograph.pk),
            **kwargs,
        )


class FormDetailView(MonographPageMixin, TemplateView):
    """The published monograph, as a reviewer last approved it."""

    template_name = "monographs/magnesiumform_detail.html"

    def get_form_queryset(self):
        return MagnesiumForm.objects.published()

    def get_revision(self):
        return self.monograph.published_revision


class FormDraftView(MonographPageMixin, TemplateView):
    """Staff preview of the latest revision, approved or not."""

    template_name = "monographs/magnesiumform_draft.html"

    def dispatch(self, request, *args, **kwargs):
        # A 404, not a 403: readers should not learn which drafts exist.
        if not can_see_drafts(request.user):
            raise Http404("No monograph has this address.")
        return super().dispatch(request, *args, **kwargs)

    def get_revision(self):
        return Revision.objects.for_form(self.monograph.pk).order_by("-number").first()


class RevisionDetailView(MonographPageMixin, TemplateView):
    """A permanent link to one revision, exactly as it was."""

    template_name = "monographs/revision_detail.html"

    def get_revision(self):
        revisions = Revision.objects.for_form(self.monograph.pk)
        if not can_see_drafts(self.request.user):
            revisions = revisions.published()
        return get_object_or_404(revisions, number=self.kwargs["number"])

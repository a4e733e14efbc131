from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.text import Truncator
from django.views.generic import TemplateView

from monographs.models import MagnesiumForm, ReviewEvent, Revision, Synonym
from monographs.pages import MonographPage
from monographs.permissions import can_see_drafts
from monographs.search import plain_text
from monographs.snapshots import published_records, snapshot
from monographs.structured_data import json_ld_script, monograph_graph


class MonographMixin:
    """Finds the monograph named in the URL; a synonym's slug redirects to it.

    Readers find a monograph by its published slug and see its published
    name, whatever a draft has renamed it to; staff also find it by the
    draft's slug.
    """

    staff_only = False

    def dispatch(self, request, *args, **kwargs):
        slug = kwargs["slug"]
        self.staff = can_see_drafts(request.user)
        if self.staff_only and not self.staff:
            # A 404, not a 403: readers should not learn which drafts exist.
            raise Http404("No monograph has this address.")
        self.monograph = self.find(slug)
        if self.monograph is None:
            target = self.synonym_target(slug)
            if target is None:
                raise Http404("No monograph has this address.")
            return HttpResponsePermanentRedirect(
                request.get_full_path().replace(
                    f"/forms/{slug}/", f"/forms/{target}/", 1
                )
            )
        return super().dispatch(request, *args, **kwargs)

    def find(self, slug):
        forms = MagnesiumForm.objects.select_related("published_revision")
        if self.staff:
            monograph = forms.filter(slug=slug).first()
            if monograph is not None:
                return monograph
        record = published_records(MagnesiumForm, slug=slug).first()
        if record is None:
            return None
        monograph = forms.get(pk=record.id)
        if not self.staff:
            # Shown as published: a draft's new name or slug stays unseen.
            monograph.name, monograph.slug = record.name, record.slug
        return monograph

    def synonym_target(self, slug):
        """The slug a synonym's address redirects to, or None."""
        if self.staff:
            synonym = Synonym.objects.select_related("form").filter(slug=slug).first()
            if synonym is not None:
                return synonym.form.slug
        record = published_records(Synonym, slug=slug).first()
        if record is None:
            return None
        form = published_records(MagnesiumForm, id=record.form_id).first()
        return form.slug if form is not None else None


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
            description=Truncator(plain_text(state.form.summary)).words(40),
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

    def find(self, slug):
        monograph = super().find(slug)
        if monograph is not None and monograph.published_revision is None:
            return None
        return monograph

    def get_revision(self):
        return self.monograph.published_revision


class FormDraftView(MonographPageMixin, TemplateView):
    """Staff preview of the latest revision, approved or not."""

    template_name = "monographs/magnesiumform_draft.html"
    staff_only = True

    def get_revision(self):
        return Revision.objects.for_form(self.monograph.pk).order_by("-number").first()


class RevisionDetailView(MonographPageMixin, TemplateView):
    """A permanent link to one revision, exactly as it was."""

    template_name = "monographs/revision_detail.html"

    def get_revision(self):
        revisions = Revision.objects.for_form(self.monograph.pk)
        if not self.staff:
            revisions = revisions.published()
        return get_object_or_404(revisions, number=self.kwargs["number"])

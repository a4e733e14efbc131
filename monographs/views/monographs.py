from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.utils.text import Truncator
from django.views.generic import TemplateView

from monographs.calculator import CalculatorError, calculate, example_hydrate
from monographs.documents import document_load
from monographs.models import MagnesiumForm, ReviewEvent, Revision, Synonym
from monographs.models.revisions import ANONYMOUS_STAFF_NAME
from monographs.pages import MonographPage
from monographs.permissions import can_see_drafts
from monographs.reference import UPPER_LIMIT_MG, AgeBand
from monographs.reversing import cached_reverse
from monographs.selectors import (
    Monograph,
    approved_revision,
    current_slug,
    publication_by_slug,
    revision_approval,
)
from monographs.structured_data import json_ld_script, monograph_graph


class MonographMixin:
    """Finds the monograph named in the URL; a synonym's or former slug redirects.

    Readers find a monograph by its published slug and see its published
    name, whatever a draft has renamed it to; staff also find it by the
    draft's slug.
    """

    staff_only = False
    # Whether the page needs the published document, or only the name.
    needs_document = False

    def dispatch(self, request, *args, **kwargs):
        slug = kwargs["slug"]
        self.staff = can_see_drafts(request.user)
        if self.staff_only and not self.staff:
            # A 404, not a 403: readers should not learn which drafts exist.
            raise Http404("No monograph has this address.")
        self.monograph = self.find(slug)
        if self.monograph is None:
            target = self.redirect_target(slug)
            if target is None:
                raise Http404("No monograph has this address.")
            return HttpResponsePermanentRedirect(
                request.get_full_path().replace(
                    f"/forms/{slug}/", f"/forms/{target}/", 1
                )
            )
        return super().dispatch(request, *args, **kwargs)

    def find(self, slug):
        if self.staff:
            live = MagnesiumForm.objects.filter(slug=slug).first()
            if live is not None:
                publication = live.live_publication
                return Monograph(
                    pk=live.pk,
                    name=live.name,
                    slug=live.slug,
                    publication=publication,
                    live=live,
                )
        publication = publication_by_slug(slug, with_document=self.needs_document)
        if publication is None:
            return None
        live = None
        if self.staff:
            live = MagnesiumForm.objects.filter(pk=publication.form_id).first()
        return Monograph(
            pk=publication.form_id,
            name=publication.name,
            slug=publication.slug,
            publication=publication,
            live=live,
        )

    def redirect_target(self, slug):
        """The slug a synonym's or a former address redirects to, or None."""
        if self.staff:
            synonym = Synonym.objects.select_related("form").filter(slug=slug).first()
            if synonym is not None:
                return synonym.form.slug
        return current_slug(slug)


class MonographPageMixin(MonographMixin):
    """Renders one revision's document on the public template."""

    needs_document = True

    def get_revision(self):
        """(revision, its approval event or None)."""
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        revision, approval = self.get_revision()
        state = document_load(revision)
        if state is None:
            raise Http404("This revision deleted the monograph.")
        page = MonographPage(state)
        hydrate, hydrate_name = example_hydrate(state.form, page.synonyms)
        crumbs = [
            ("Home", cached_reverse("monographs:home")),
            ("Forms", cached_reverse("monographs:form-list")),
            (state.form.name, state.form.get_absolute_url()),
        ]
        return super().get_context_data(
            form=state.form,
            description=Truncator(page.summary_text).words(40),
            page=page,
            revision=revision,
            monograph=self.monograph,
            approval=approval,
            crumbs=crumbs,
            example_hydrate=hydrate,
            example_hydrate_name=hydrate_name,
            calculator=self.calculation(state.form),
            upper_limits=[
                (AgeBand(band).label, limit) for band, limit in UPPER_LIMIT_MG.items()
            ],
            json_ld=self.structured_data(page, approval, crumbs),
            latest_number=(
                Revision.objects.latest_number(self.monograph.pk)
                if self.staff
                else None
            ),
            **kwargs,
        )

    def calculation(self, form):
        """The label-weight calculator's form, unanswered (only the published
        page answers it)."""
        return calculate(form, {})

    def structured_data(self, page, approval, crumbs):
        """The page's JSON-LD script: only the published page has one
        (permalinks and drafts are not for search engines)."""
        return ""


class PublishedApproval:
    """The approval a publication records, shaped like a review event.

    Content approved by no person (the seed, an import without --publish)
    has no reviewer's name: readers are told it is not yet reviewed.
    """

    def __init__(self, publication):
        self.created_at = publication.approved_at
        self.user_name = publication.approved_by_name
        # A reviewer approved it (their public name was stored on approval).
        self.reviewed = bool(publication.approved_by_name)
        # ... and is named: "an mgref editor" is no one a reader can check.
        self.named_reviewer = self.reviewed and (
            publication.approved_by_name != ANONYMOUS_STAFF_NAME
        )


class FormDetailView(MonographPageMixin, TemplateView):
    """The published monograph, as a reviewer last approved it."""

    template_name = "monographs/magnesiumform_detail.html"

    def get(self, request, *args, **kwargs):
        if self.monograph.withdrawn:
            return render(
                request,
                "monographs/magnesiumform_withdrawn.html",
                {"monograph": self.monograph},
                status=410,
            )
        if self.monograph.published_revision is None:
            raise Http404("This monograph has not been published.")
        self.calculator_error = None
        response = super().get(request, *args, **kwargs)
        if self.calculator_error is not None:
            response.status_code = 400
        return response

    def get_revision(self):
        publication = self.monograph.publication
        return publication.revision, PublishedApproval(publication)

    def structured_data(self, page, approval, crumbs):
        return json_ld_script(monograph_graph(self.request, page, approval, crumbs))

    def calculation(self, form):
        """What ?label_mg=&hydrate= asks; a bad value is shown, with a 400."""
        try:
            return calculate(form, self.request.GET)
        except CalculatorError as error:
            self.calculator_error = error
            error.calculation.error = str(error)
            return error.calculation


class FormDraftView(MonographPageMixin, TemplateView):
    """Staff preview of the latest revision, approved or not."""

    template_name = "monographs/magnesiumform_draft.html"
    staff_only = True

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    def get_revision(self):
        revision = Revision.objects.with_document().latest_for(self.monograph.pk)
        if revision is None:
            raise Http404("This monograph has no revisions.")
        return revision, None


class RevisionDetailView(MonographPageMixin, TemplateView):
    """A permanent link to one revision, exactly as it was approved."""

    template_name = "monographs/revision_detail.html"
    needs_document = False

    def get_revision(self):
        """The revision and, if it was approved, its approval: the page cites
        an approved revision by the date it was approved, as the published
        page citing it does, and a draft by the date it was saved."""
        number = self.kwargs["number"]
        if self.staff:
            revision = (
                Revision.objects.with_document()
                .select_related("user")
                .for_form(self.monograph.pk)
                .filter(number=number)
                .first()
            )
            if revision is None:
                raise Http404("No such revision.")
            return revision, revision_approval(revision)
        revision, event = approved_revision(self.monograph.pk, number)
        if revision is None or revision.is_deletion:
            raise Http404("No such revision.")
        return revision, event if event.action == ReviewEvent.Action.APPROVED else None

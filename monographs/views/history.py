import re

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.views.generic import TemplateView

from monographs.diffs import compare
from monographs.models import MagnesiumForm, ReviewEvent, Revision
from monographs.permissions import can_see_drafts
from monographs.snapshots import (
    as_instance,
    published_forms,
    published_records,
    snapshot,
)
from monographs.views.monographs import MonographMixin
from monographs.views.params import page_of, whole_number

REVISIONS_PER_PAGE = 50
# Characters XML 1.0 cannot carry, which an edit summary may still contain.
XML_INVALID_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value):
    return XML_INVALID_RE.sub("", str(value))


FEED_ITEMS = 30


def visible_revisions(user):
    revisions = Revision.objects.select_related("user")
    return revisions if can_see_drafts(user) else revisions.published()


def annotate_review_state(revisions, published_ids):
    """Attach each revision's review state: approved, changes requested or pending."""
    events = ReviewEvent.objects.filter(revision__in=revisions).select_related("user")
    by_revision = {}
    for event in events.order_by("created_at"):
        by_revision.setdefault(event.revision_id, []).append(event)
    for revision in revisions:
        revision.events = by_revision.get(revision.pk, [])
        decisions = [
            event
            for event in revision.events
            if event.action != ReviewEvent.Action.SUBMITTED
        ]
        revision.decision = decisions[-1] if decisions else None
        revision.is_published = revision.pk in published_ids


class HistoryView(MonographMixin, TemplateView):
    template_name = "monographs/revision_list.html"

    def get_context_data(self, **kwargs):
        monograph = self.monograph
        revisions = (
            visible_revisions(self.request.user)
            .filter(form=monograph)
            .order_by("-number")
        )
        page = page_of(self.request, revisions, REVISIONS_PER_PAGE)
        rows = list(page.object_list)
        if rows:
            older = revisions.filter(number__lt=rows[-1].number).first()
            for revision, previous in zip(rows, rows[1:] + [older], strict=True):
                if (
                    revision.size is not None
                    and previous is not None
                    and previous.size is not None
                ):
                    revision.delta = revision.size - previous.size
                else:
                    revision.delta = revision.size
        annotate_review_state(rows, {monograph.published_revision_id})
        return super().get_context_data(
            monograph=monograph,
            page_obj=page,
            revisions=rows,
            staff=self.staff,
            latest_number=Revision.objects.latest_number(monograph.pk),
            **kwargs,
        )


class DiffView(MonographMixin, TemplateView):
    template_name = "monographs/revision_diff.html"

    def get(self, request, *args, **kwargs):
        numbers = [
            whole_number(request.GET.get("from")),
            whole_number(request.GET.get("to")),
        ]
        problem = None
        if None in numbers:
            problem = "Give two revision numbers, e.g. ?from=1&to=2."
        elif numbers[0] >= numbers[1]:
            problem = (
                f"Compare an older revision with a newer one: from={numbers[0]} is not "
                f"before to={numbers[1]}."
            )
        if problem:
            return render(
                request,
                "monographs/revision_diff.html",
                {"problem": problem, "monograph": self.monograph},
                status=400,
            )
        revisions = visible_revisions(request.user).filter(form=self.monograph)
        self.old = get_object_or_404(revisions, number=numbers[0])
        self.new = get_object_or_404(revisions, number=numbers[1])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        annotate_review_state(
            [self.old, self.new], {self.monograph.published_revision_id}
        )
        old_state, new_state = snapshot(self.old), snapshot(self.new)
        if new_state is None:
            raise Http404("The newer revision deleted the monograph.")
        return super().get_context_data(
            monograph=self.monograph,
            old=self.old,
            new=self.new,
            diff=compare(old_state, new_state, staff_fields=self.staff),
            **kwargs,
        )


def forms_as_shown(staff):
    """{form id: form as the viewer may see it}: drafts for staff, else published."""
    if staff:
        return {form.pk: form for form in MagnesiumForm.objects.all()}
    return {form.pk: form for form in published_forms()}


class RecentChangesView(TemplateView):
    template_name = "monographs/revision_changes.html"

    def get_context_data(self, **kwargs):
        staff = can_see_drafts(self.request.user)
        shown = forms_as_shown(staff)
        revisions = (
            visible_revisions(self.request.user)
            .filter(form__in=list(shown))
            .order_by("-created_at", "-pk")
        )
        chosen = None
        slug = self.request.GET.get("form")
        if slug:
            chosen = next((form for form in shown.values() if form.slug == slug), None)
            if chosen is None:
                raise Http404("No form has this address.")
            revisions = revisions.filter(form=chosen.pk)
        page = page_of(self.request, revisions, REVISIONS_PER_PAGE)
        rows = list(page.object_list)
        for revision in rows:
            revision.shown_form = shown[revision.form_id]
        published_ids = set(
            MagnesiumForm.objects.filter(
                pk__in=[row.form_id for row in rows]
            ).values_list("published_revision", flat=True)
        )
        annotate_review_state(rows, published_ids)
        return super().get_context_data(
            page_obj=page,
            revisions=rows,
            forms=sorted(shown.values(), key=lambda form: form.name),
            chosen=chosen,
            **kwargs,
        )


class ChangesFeed(Feed):
    """Published revisions, newest first: what readers' pages changed to."""

    feed_type = Atom1Feed
    title = "mgref: recent changes"
    subtitle = "Revisions of magnesium monographs, as reviewers approved them."

    def link(self):
        return reverse("monographs:change-list")

    def published_revisions(self, forms):
        revisions = (
            Revision.objects.published()
            .filter(form__in=list(forms))
            .select_related("user")
            .order_by("-created_at", "-pk")[:FEED_ITEMS]
        )
        for revision in revisions:
            revision.shown_form = forms[revision.form_id]
        return revisions

    def items(self):
        return self.published_revisions(forms_as_shown(staff=False))

    def item_title(self, revision):
        return xml_text(f"{revision.shown_form.name}, revision {revision.number}")

    def item_description(self, revision):
        # Atom marks the summary as HTML; an edit summary is plain text.
        return escape(xml_text(revision.summary or "No edit summary."))

    def item_link(self, revision):
        return reverse(
            "monographs:revision-detail",
            args=[revision.shown_form.slug, revision.number],
        )

    def item_pubdate(self, revision):
        return revision.created_at

    def item_updateddate(self, revision):
        return revision.created_at

    def item_author_name(self, revision):
        return xml_text(revision.author_name)


class MonographHistoryFeed(ChangesFeed):
    def get_object(self, request, slug):
        form = published_records(MagnesiumForm, slug=slug).first()
        if form is None:
            raise Http404("No published monograph has this address.")
        return as_instance(form)

    def title(self, form):
        return xml_text(f"mgref: history of {form.name}")

    def link(self, form):
        return reverse("monographs:form-history", args=[form.slug])

    def items(self, form):
        return self.published_revisions({form.pk: form})

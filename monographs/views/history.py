import re
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.core.validators import slug_re
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.views.generic import TemplateView

from monographs.diffs import compare
from monographs.documents import document_load
from monographs.models import MagnesiumForm, Publication, ReviewEvent, Revision
from monographs.permissions import can_see_drafts
from monographs.reversing import cached_reverse
from monographs.selectors import current_slug, publication_by_slug
from monographs.views.monographs import MonographMixin
from monographs.views.params import (
    Moved,
    follows_moves,
    page_of,
    query_naming,
    whole_number,
)

REVISIONS_PER_PAGE = 50
MAX_REVISION_NUMBER = 2**31 - 1
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


@dataclass
class ShownForm:
    """A monograph as a list of changes names it."""

    pk: int
    name: str
    slug: str


class HistoryView(MonographMixin, TemplateView):
    template_name = "monographs/revision_list.html"

    def get_context_data(self, **kwargs):
        monograph = self.monograph
        revisions = (
            visible_revisions(self.request.user)
            .filter(form_id=monograph.pk)
            .order_by("-number")
        )
        page = page_of(self.request, revisions, REVISIONS_PER_PAGE)
        rows = list(page.object_list)
        # The newest revision the reader may see: each row's "cur" compares
        # with it, as MediaWiki's history does.
        # (One query on every page, so that no page costs more than another.)
        current = revisions.values_list("number", "deleted").first()
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
                # "prev": what this revision changed from the one before it.
                revision.previous_number = (
                    previous.number
                    if previous is not None and not revision.deleted
                    else None
                )
                revision.current_number = (
                    current[0]
                    if current is not None
                    and current[0] != revision.number
                    and not current[1]
                    else None
                )
        annotate_review_state(rows, {monograph.published_revision_id})
        return super().get_context_data(
            monograph=monograph,
            page_obj=page,
            revisions=rows,
            staff=self.staff,
            latest_number=(
                Revision.objects.latest_number(monograph.pk) if self.staff else None
            ),
            crumbs=monograph_trail(monograph, ("History", self.request.path)),
            **kwargs,
        )


def monograph_trail(monograph, *steps):
    """Breadcrumbs to a page of ``monograph``: Home, Forms, its page, ``steps``."""
    return [
        ("Home", cached_reverse("monographs:home")),
        ("Forms", cached_reverse("monographs:form-list")),
        (monograph.name, cached_reverse("monographs:form-detail", (monograph.slug,))),
        *steps,
    ]


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
        elif numbers[0] == numbers[1]:
            problem = f"Choose two different revisions: both are {numbers[0]}."
        if problem:
            return render(
                request,
                "monographs/revision_diff.html",
                {"problem": problem, "monograph": self.monograph},
                status=400,
            )
        numbers.sort()
        if numbers[1] > MAX_REVISION_NUMBER:
            raise Http404("No such revision.")
        revisions = {
            revision.number: revision
            for revision in visible_revisions(request.user)
            .with_document()
            .filter(form_id=self.monograph.pk, number__in=numbers)
        }
        if len(revisions) != 2:
            raise Http404("No such revision.")
        self.old, self.new = revisions[numbers[0]], revisions[numbers[1]]
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        annotate_review_state(
            [self.old, self.new], {self.monograph.published_revision_id}
        )
        old_state, new_state = document_load(self.old), document_load(self.new)
        if new_state is None:
            raise Http404("The newer revision deleted the monograph.")
        slug = self.monograph.slug
        links = tuple(
            cached_reverse("monographs:revision-detail", (slug, revision.number))
            if not revision.deleted
            else None
            for revision in (self.old, self.new)
        )
        return super().get_context_data(
            monograph=self.monograph,
            old=self.old,
            new=self.new,
            diff=compare(old_state, new_state, staff_fields=self.staff, links=links),
            crumbs=monograph_trail(
                self.monograph,
                ("History", cached_reverse("monographs:form-history", (slug,))),
                (
                    f"Revisions {self.old.number} to {self.new.number}",
                    # Not get_full_path(): a parameter the page cache does not
                    # key on would be shown to every reader of the cached page.
                    f"{self.request.path}?from={self.old.number}&to={self.new.number}",
                ),
            ),
            **kwargs,
        )


def shown_forms(form_ids, staff):
    """{form id: ShownForm}: where a list of changes links each monograph to."""
    shown = {}
    for publication in Publication.objects.filter(form_id__in=form_ids).only(
        "form_id", "name", "slug"
    ):
        shown[publication.form_id] = ShownForm(
            publication.form_id, publication.name, publication.slug
        )
    if staff:
        for pk, name, slug in MagnesiumForm.objects.filter(pk__in=form_ids).values_list(
            "pk", "name", "slug"
        ):
            shown[pk] = ShownForm(pk, name, slug)
    return shown


# ?form= a former or a synonym's slug: the monograph's changes.
@method_decorator(follows_moves, name="get")
class RecentChangesView(TemplateView):
    template_name = "monographs/revision_changes.html"

    def get_context_data(self, **kwargs):
        staff = can_see_drafts(self.request.user)
        revisions = visible_revisions(self.request.user).order_by("-created_at", "-pk")
        chosen = None
        slug = self.request.GET.get("form")
        if slug and not slug_re.fullmatch(slug):
            raise Http404("No form has this address.")
        if slug:
            publication = publication_by_slug(slug, with_document=False)
            live = MagnesiumForm.objects.filter(slug=slug).first() if staff else None
            form_id = live.pk if live else publication.form_id if publication else None
            if form_id is None:
                target = current_slug(slug)
                if target is None:
                    raise Http404("No form has this address.")
                raise Moved(query_naming(self.request, "form", target))
            revisions = revisions.filter(form_id=form_id)
        page = page_of(self.request, revisions, REVISIONS_PER_PAGE)
        rows = list(page.object_list)
        form_ids = {row.form_id for row in rows}
        shown = shown_forms(form_ids, staff)
        for revision in rows:
            revision.shown_form = shown.get(revision.form_id) or ShownForm(
                revision.form_id, revision.name, revision.slug
            )
        if slug:
            chosen = rows[0].shown_form if rows else None
        published_ids = set(
            Publication.objects.live()
            .filter(form_id__in=form_ids)
            .values_list("revision_id", flat=True)
        )
        annotate_review_state(rows, published_ids)
        forms = Publication.objects.live().only("form_id", "name", "slug")
        return super().get_context_data(
            page_obj=page,
            revisions=rows,
            forms=[ShownForm(p.form_id, p.name, p.slug) for p in forms],
            chosen=chosen,
            crumbs=[
                ("Home", cached_reverse("monographs:home")),
                ("Recent changes", cached_reverse("monographs:change-list")),
            ],
            **kwargs,
        )


class ChangesFeed(Feed):
    """Approved revisions and withdrawals, newest first: what readers' pages
    changed to, each dated by the approval that published it."""

    feed_type = Atom1Feed
    title = "mgref: recent changes"
    subtitle = (
        "Revisions of mgref's magnesium monographs, each dated when it was "
        "approved for publication and readers first saw it."
    )

    def link(self):
        return cached_reverse("monographs:change-list")

    def published_revisions(self, form_id=None):
        """The latest public review events' revisions, each once, with
        ``approved_at`` set to when readers first saw it."""
        events = (
            ReviewEvent.objects.filter(action__in=ReviewEvent.PUBLIC)
            .select_related("revision", "revision__user")
            .defer("revision__document")
            .order_by("-created_at", "-pk")
        )
        if form_id is not None:
            events = events.filter(form_id=form_id)
        revisions, seen = [], set()
        for event in events[: FEED_ITEMS * 2]:
            if event.revision_id in seen:
                continue
            seen.add(event.revision_id)
            revision = event.revision
            revision.approved_at = event.created_at
            revision.decision = event
            revisions.append(revision)
            if len(revisions) == FEED_ITEMS:
                break
        shown = shown_forms({revision.form_id for revision in revisions}, staff=False)
        for revision in revisions:
            revision.shown_form = shown.get(revision.form_id) or ShownForm(
                revision.form_id, revision.name, revision.slug
            )
        return revisions

    def items(self):
        return self.published_revisions()

    def item_title(self, revision):
        if revision.is_deletion:
            return xml_text(f"{revision.name} deleted (revision {revision.number})")
        return xml_text(f"{revision.name}, revision {revision.number}")

    def item_description(self, revision):
        # Atom marks the summary as HTML; an edit summary is plain text.
        summary = xml_text(revision.summary or "No edit summary.")
        decision = revision.decision
        if decision.action == ReviewEvent.Action.DELETED:
            return escape(summary)
        if decision.by_person:
            reviewed = f"approved by {xml_text(decision.user_name)}"
        else:
            reviewed = "published without review by a person"
        return escape(f"{summary} — {reviewed}")

    def item_link(self, revision):
        if revision.is_deletion:
            # Its row in the history: a deletion has no page of its own, and
            # each deletion needs an address (and so an atom:id) of its own.
            history = cached_reverse(
                "monographs:form-history", (revision.shown_form.slug,)
            )
            return f"{history}#revision-{revision.number}"
        return reverse(
            "monographs:revision-detail",
            args=[revision.shown_form.slug, revision.number],
        )

    def item_pubdate(self, revision):
        return revision.approved_at

    def item_updateddate(self, revision):
        return revision.approved_at

    def item_author_name(self, revision):
        # The public name stored with the revision, never a login name.
        return xml_text(revision.author_name)


@method_decorator(follows_moves, name="__call__")
class MonographHistoryFeed(ChangesFeed):
    def get_object(self, request, slug):
        publication = publication_by_slug(slug, with_document=False)
        if publication is None:
            target = current_slug(slug)
            if target is not None:
                # A feed reader subscribed at a former or a synonym's address
                # follows the move, as the monograph's pages do.
                raise Moved(cached_reverse("monographs:form-history-feed", (target,)))
            raise Http404("No published monograph has this address.")
        return ShownForm(publication.form_id, publication.name, publication.slug)

    def title(self, form):
        return xml_text(f"mgref: history of {form.name}")

    def subtitle(self, form):
        return xml_text(
            f"Published revisions of the {form.name} monograph, each dated when "
            "it was approved for publication."
        )

    def link(self, form):
        return cached_reverse("monographs:form-history", (form.slug,))

    def items(self, form):
        return self.published_revisions(form.pk)

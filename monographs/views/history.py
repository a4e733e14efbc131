from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.views.generic import TemplateView

from monographs.diffs import compare
from monographs.models import MagnesiumForm, ReviewEvent, Revision
from monographs.permissions import can_see_drafts
from monographs.snapshots import snapshot
from monographs.views.monographs import MonographMixin

REVISIONS_PER_PAGE = 50
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


def paginate(request, queryset, per_page):
    paginator = Paginator(queryset, per_page)
    number = request.GET.get("page", "1")
    if not number.isdigit() or not 1 <= int(number) <= paginator.num_pages:
        raise Http404("There is no such page.")
    return paginator.page(number)


class HistoryView(MonographMixin, TemplateView):
    template_name = "monographs/revision_list.html"

    def get_context_data(self, **kwargs):
        monograph = self.monograph
        revisions = (
            visible_revisions(self.request.user)
            .filter(form=monograph)
            .order_by("-number")
        )
        page = paginate(self.request, revisions, REVISIONS_PER_PAGE)
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
            staff=can_see_drafts(self.request.user),
            latest_number=Revision.objects.latest_number(monograph.pk),
            **kwargs,
        )


def _revision_number(request, name):
    value = request.GET.get(name, "")
    if not value.isdigit():
        return None
    return int(value)


class DiffView(MonographMixin, TemplateView):
    template_name = "monographs/revision_diff.html"

    def get(self, request, *args, **kwargs):
        numbers = [_revision_number(request, "from"), _revision_number(request, "to")]
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
            diff=compare(old_state, new_state),
            **kwargs,
        )


class RecentChangesView(TemplateView):
    template_name = "monographs/revision_changes.html"

    def get_context_data(self, **kwargs):
        staff = can_see_drafts(self.request.user)
        forms = (
            MagnesiumForm.objects.all() if staff else MagnesiumForm.objects.published()
        )
        revisions = (
            visible_revisions(self.request.user)
            .filter(form__in=forms)
            .select_related("form", "form__published_revision")
            .order_by("-created_at", "-pk")
        )
        chosen = self.request.GET.get("form")
        form = None
        if chosen:
            form = get_object_or_404(forms, slug=chosen)
            revisions = revisions.filter(form=form)
        page = paginate(self.request, revisions, REVISIONS_PER_PAGE)
        rows = list(page.object_list)
        annotate_review_state(
            rows, set(forms.values_list("published_revision", flat=True))
        )
        return super().get_context_data(
            page_obj=page,
            revisions=rows,
            forms=forms.order_by("name"),
            chosen=form,
            **kwargs,
        )


class ChangesFeed(Feed):
    """Published revisions, newest first: what readers' pages changed to."""

    feed_type = Atom1Feed
    title = "mgref: recent changes"
    subtitle = "Revisions of magnesium monographs, as reviewers approved them."

    def link(self):
        return reverse("monographs:change-list")

    def items(self):
        return (
            Revision.objects.published()
            .filter(form__in=MagnesiumForm.objects.published())
            .select_related("form", "user")
            .order_by("-created_at", "-pk")[:FEED_ITEMS]
        )

    def item_title(self, revision):
        return f"{revision.form.name}, revision {revision.number}"

    def item_description(self, revision):
        return revision.summary or "No edit summary."

    def item_link(self, revision):
        return revision.get_absolute_url()

    def item_pubdate(self, revision):
        return revision.created_at

    def item_updateddate(self, revision):
        return revision.created_at

    def item_author_name(self, revision):
        return revision.author_name


class MonographHistoryFeed(ChangesFeed):
    def get_object(self, request, slug):
        return get_object_or_404(MagnesiumForm.objects.published(), slug=slug)

    def title(self, monograph):
        return f"mgref: history of {monograph.name}"

    def link(self, monograph):
        return reverse("monographs:form-history", args=[monograph.slug])

    def items(self, monograph):
        return (
            Revision.objects.published()
            .filter(form=monograph)
            .select_related("form", "user")
            .order_by("-number")[:FEED_ITEMS]
        )

"""
The editorial desk on the admin home: what waits for whom.

Reviewers see what awaits review and drafts nobody has submitted; editors
see changes requested on their edits and their drafts not yet submitted;
everyone sees what was published lately and which monographs are due for
review: those whose last review by a person (an approval with a reviewer:
the seed's approvals have none) is older than MGREF_REVIEW_CYCLE_DAYS.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from monographs.models import MagnesiumForm, ReviewEvent, Revision
from monographs.permissions import can_publish, can_see_drafts

RECENT = 10


def review_cycle():
    return datetime.timedelta(days=settings.MGREF_REVIEW_CYCLE_DAYS)


def last_human_reviews(form_ids=None):
    """{form id: when a person last approved it}."""
    events = ReviewEvent.objects.filter(
        action=ReviewEvent.Action.APPROVED, user__isnull=False
    )
    if form_ids is not None:
        events = events.filter(form_id__in=form_ids)
    return dict(
        events.values("form_id")
        .annotate(last=Max("created_at"))
        .values_list("form_id", "last")
    )


def next_review(form_id, *, last=None):
    """(when it was last reviewed by a person or None, when the next review is due)."""
    if last is None:
        last = last_human_reviews([form_id]).get(form_id)
    if last is None:
        return None, None
    return last, last + review_cycle()


@dataclass
class Entry:
    monograph: MagnesiumForm
    when: datetime.datetime | None = None
    who: str = ""
    note: str = ""
    number: int | None = None


def _last_approved_numbers():
    return dict(
        ReviewEvent.objects.filter(action=ReviewEvent.Action.APPROVED)
        .values("form_id")
        .annotate(number=Max("revision__number"))
        .values_list("form_id", "number")
    )


def _last_events(action, form_ids):
    events = {}
    for event in (
        ReviewEvent.objects.filter(action=action, form_id__in=form_ids)
        .select_related("user", "revision")
        .defer("revision__document")
        .order_by("created_at", "pk")
    ):
        events[event.form_id] = event
    return events


def dashboard(user, *, now=None):
    """What the admin home shows ``user``, by role."""
    if not can_see_drafts(user):
        return None
    now = now or timezone.now()
    reviewer = can_publish(user)
    monographs = list(MagnesiumForm.objects.with_status().order_by("name"))
    by_status = {}
    for monograph in monographs:
        by_status.setdefault(monograph.workflow_status, []).append(monograph)
    Status = MagnesiumForm.Status
    approved = _last_approved_numbers()
    # The monographs this user edited since their last approval.
    mine = {
        form_id
        for form_id, number in Revision.objects.filter(user=user)
        .values("form_id")
        .annotate(number=Max("number"))
        .values_list("form_id", "number")
        if number > approved.get(form_id, 0)
    }
    latest = {
        revision.form_id: revision
        for revision in Revision.objects.filter(
            pk__in=Revision.objects.values("form_id")
            .annotate(newest=Max("id"))
            .values("newest")
        ).select_related("user")
    }

    def entries(statuses, *, only_mine, action=None):
        chosen = [
            monograph
            for status in statuses
            for monograph in by_status.get(status, [])
            if not only_mine or monograph.pk in mine
        ]
        events = _last_events(action, [m.pk for m in chosen]) if action else {}
        result = []
        for monograph in chosen:
            event = events.get(monograph.pk)
            revision = latest.get(monograph.pk)
            if event is not None:
                result.append(
                    Entry(
                        monograph,
                        event.created_at,
                        event.actor,
                        event.comment,
                        event.revision.number,
                    )
                )
            elif revision is not None:
                result.append(
                    Entry(
                        monograph,
                        revision.created_at,
                        revision.author_name,
                        revision.summary,
                        revision.number,
                    )
                )
        return sorted(result, key=lambda entry: entry.when or now, reverse=True)

    unsubmitted = [Status.DRAFT, Status.PUBLISHED_WITH_CHANGES]
    humans = last_human_reviews()
    due = []
    for monograph in monographs:
        if monograph.workflow_status not in {
            Status.PUBLISHED,
            Status.PUBLISHED_WITH_CHANGES,
        }:
            continue
        last = humans.get(monograph.pk)
        if last is None or last + review_cycle() <= now:
            due.append(
                Entry(
                    monograph, last, note="" if last else "never reviewed by a person"
                )
            )
    due.sort(key=lambda entry: (entry.when is not None, entry.when or now))
    recent = [
        Entry(
            next(m for m in monographs if m.pk == event.form_id),
            event.created_at,
            event.actor,
            event.comment,
            event.revision.number,
        )
        for event in ReviewEvent.objects.filter(
            action=ReviewEvent.Action.APPROVED,
            form_id__in=[m.pk for m in monographs],
        )
        .select_related("user", "revision")
        .defer("revision__document")
        .order_by("-created_at", "-pk")[:RECENT]
    ]
    return {
        "reviewer": reviewer,
        "awaiting_review": entries(
            [Status.IN_REVIEW], only_mine=False, action=ReviewEvent.Action.SUBMITTED
        )
        if reviewer
        else [],
        "changes_requested": entries(
            [Status.CHANGES_REQUESTED],
            only_mine=True,
            action=ReviewEvent.Action.CHANGES_REQUESTED,
        ),
        "my_drafts": entries(unsubmitted, only_mine=True),
        "unsubmitted": entries(unsubmitted, only_mine=False) if reviewer else [],
        "recently_published": recent,
        "review_due": due,
        "cycle_days": settings.MGREF_REVIEW_CYCLE_DAYS,
    }

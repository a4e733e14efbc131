"""
Email about the review workflow: reviewers hear of a submission, authors of
the decision on their edits.

Messages go out once the step's transaction has committed (a step rolled
back tells nobody), through Django's email (configured from DJANGO_EMAIL_*
in mgref.settings). A message that cannot be sent is logged; it never undoes
or fails the step that caused it.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from monographs.models import ReviewEvent, Revision

logger = logging.getLogger(__name__)

PUBLISH_PERMISSION = "publish_magnesiumform"


def _url(name, *args):
    return f"{settings.MGREF_SITE_URL}{reverse(name, args=args)}"


def reviewers():
    """Active staff who may approve, with an email address."""
    may_publish = (
        Q(is_superuser=True)
        | Q(groups__permissions__codename=PUBLISH_PERMISSION)
        | Q(user_permissions__codename=PUBLISH_PERMISSION)
    )
    return (
        get_user_model()
        .objects.filter(may_publish, is_active=True, is_staff=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def authors(event):
    """Who wrote what ``event`` decided on: the authors of the revisions since
    the last approval up to the decided one, and who submitted them."""
    previous = (
        ReviewEvent.objects.filter(
            form_id=event.form_id,
            action=ReviewEvent.Action.APPROVED,
            revision__number__lt=event.revision.number,
        )
        .order_by("-revision__number")
        .values_list("revision__number", flat=True)
        .first()
    ) or 0
    user_ids = set(
        Revision.objects.for_form(event.form_id)
        .filter(number__gt=previous, number__lte=event.revision.number)
        .exclude(user=None)
        .values_list("user_id", flat=True)
    )
    user_ids |= set(
        ReviewEvent.objects.filter(
            form_id=event.form_id,
            action=ReviewEvent.Action.SUBMITTED,
            revision__number__gt=previous,
            revision__number__lte=event.revision.number,
        )
        .exclude(user=None)
        .values_list("user_id", flat=True)
    )
    user_ids.discard(event.user_id)
    return (
        get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )


def _message(event, recipients):
    revision = event.revision
    name = revision.name
    actor = event.actor
    comment = f"\n\nTheir comment:\n{event.comment}" if event.comment else ""
    Action = ReviewEvent.Action
    if event.action == Action.SUBMITTED:
        subject = f"[mgref] {name} is awaiting review"
        body = (
            f"{actor} submitted revision {revision.number} of {name} for review."
            f"{comment}\n\nReview it: {_url('admin:monographs_magnesiumform_review', event.form_id)}"
        )
    elif event.action == Action.APPROVED:
        subject = f"[mgref] {name} is published"
        body = (
            f"{actor} approved revision {revision.number} of {name}: readers see "
            f"it now.{comment}\n\n{_url('monographs:form-detail', revision.slug)}"
        )
    else:
        subject = f"[mgref] Changes requested for {name}"
        body = (
            f"{actor} asked for changes to revision {revision.number} of {name}."
            f"{comment}\n\nEdit it: "
            f"{_url('admin:monographs_magnesiumform_change', event.form_id)}"
        )
    return [
        EmailMessage(subject=subject, body=body, to=[user.email]) for user in recipients
    ]


def _send(event_id):
    """Send the messages of one review event; log, never raise."""
    try:
        event = ReviewEvent.objects.select_related("revision", "user").get(pk=event_id)
        if event.action == ReviewEvent.Action.SUBMITTED:
            recipients = [user for user in reviewers() if user.pk != event.user_id]
        else:
            recipients = list(authors(event))
        messages = _message(event, recipients)
        if messages:
            get_connection(fail_silently=False).send_messages(messages)
        return len(messages)
    except Exception:
        logger.exception(
            "Could not send the notifications of review event %s", event_id
        )
        return 0


def review_event_notify(*, event):
    """Tell the people concerned of ``event`` once its transaction commits."""
    if event.action not in {
        ReviewEvent.Action.SUBMITTED,
        ReviewEvent.Action.APPROVED,
        ReviewEvent.Action.CHANGES_REQUESTED,
    }:
        return
    transaction.on_commit(lambda: _send(event.pk))

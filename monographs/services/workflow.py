"""
Review: submit a monograph's latest revision, approve it or send it back.

Approval is a pointer: the ``Publication`` of the monograph moves to the
approved revision, with its name and slug, who approved it and when, in the
same transaction as the review event. Readers see that revision's document,
exactly as approved.
"""

from django.db import IntegrityError, transaction

from monographs.documents import document_load
from monographs.models import (
    MagnesiumForm,
    Publication,
    ReviewEvent,
    Revision,
    SearchDocument,
)
from monographs.models.revisions import public_name
from monographs.search import document_fields
from monographs.services.notifications import review_event_notify
from monographs.services.rendering import revision_render
from monographs.services.writes import IncompleteDecision, WorkflowError


def _locked(form):
    return MagnesiumForm.objects.select_for_update().get(pk=form.pk)


def latest_revision(form):
    revision = Revision.objects.with_document().latest_for(form.pk)
    if revision is None:
        raise WorkflowError(f"{form} has no revisions yet.")
    return revision


def _reviewed_revision(form, revision_number):
    latest = latest_revision(form)
    if revision_number != latest.number:
        raise WorkflowError(
            f"Revision {latest.number} was saved after the revision {revision_number} "
            "you reviewed. Look at the latest changes first."
        )
    return latest


def _published_revision_id(form):
    return (
        Publication.objects.live()
        .filter(form_id=form.pk)
        .values_list("revision_id", flat=True)
        .first()
    )


@transaction.atomic
def monograph_submit(*, form, user, comment=""):
    form = _locked(form)
    latest = latest_revision(form)
    if form.status == MagnesiumForm.Status.IN_REVIEW:
        raise WorkflowError(f"{form} is already awaiting review.")
    if _published_revision_id(form) == latest.pk:
        raise WorkflowError(f"{form} has no unpublished changes to review.")
    event = ReviewEvent.objects.create(
        form=form,
        revision=latest,
        action=ReviewEvent.Action.SUBMITTED,
        user=user,
        user_name=public_name(user),
        comment=comment,
    )
    review_event_notify(event=event)
    return event


@transaction.atomic
def monograph_approve(*, form, user, revision_number, comment=""):
    """Publish ``revision_number``, which must be the latest revision."""
    form = _locked(form)
    revision = _reviewed_revision(form, revision_number)
    if _published_revision_id(form) == revision.pk:
        raise WorkflowError(
            f"Revision {revision.number} of {form} is already published."
        )
    event = ReviewEvent.objects.create(
        form=form,
        revision=revision,
        action=ReviewEvent.Action.APPROVED,
        user=user,
        user_name=public_name(user),
        comment=comment,
    )
    try:
        with transaction.atomic():
            Publication.objects.update_or_create(
                form_id=form.pk,
                defaults={
                    "revision": revision,
                    "name": revision.name,
                    "slug": revision.slug,
                    "approved_by": user,
                    "approved_by_name": public_name(user),
                    "approved_at": event.created_at,
                    "withdrawn": False,
                    "synonym_slugs": [
                        synonym["slug"]
                        for synonym in revision.document["rows"]["synonyms"]
                    ],
                },
            )
    except IntegrityError:
        raise WorkflowError(
            f"Another published monograph already has the address /forms/"
            f"{revision.slug}/. Give {form} another slug first."
        ) from None
    SearchDocument.objects.update_or_create(
        form=form,
        defaults={"revision": revision, **document_fields(document_load(revision))},
    )
    revision_render(revision=revision)
    review_event_notify(event=event)
    return event


@transaction.atomic
def monograph_request_changes(*, form, user, revision_number, comment):
    if not comment.strip():
        raise IncompleteDecision("Say what needs to change: the comment is required.")
    form = _locked(form)
    revision = _reviewed_revision(form, revision_number)
    if _published_revision_id(form) == revision.pk:
        raise WorkflowError(
            f"Revision {revision.number} of {form} is already published."
        )
    event = ReviewEvent.objects.create(
        form=form,
        revision=revision,
        action=ReviewEvent.Action.CHANGES_REQUESTED,
        user=user,
        user_name=public_name(user),
        comment=comment.strip(),
    )
    review_event_notify(event=event)
    return event

"""
Who changed content, why, and in which revision.

A multi-row write (an admin save with its inlines, a seed load, an import, a
revert) runs inside ``change_context(reason=..., user=...)``. Every
historical row it creates carries that reason and author. When the context
ends, each monograph it touched gets one new ``Revision`` holding its whole
document (``monographs.services.revisions.revision_record``), and the
historical rows are linked to it: one save, one revision. A save that
changed nothing in the document writes no revision, and its historical rows
are dropped with it.

A citation or topic edited in a context becomes a pending change of every
monograph whose document quotes it.

A write outside any context still gets a revision of its own, so no change
to a monograph goes unrecorded.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record


@dataclass
class ChangeContext:
    reason: str
    user: object = None
    # {form id: [historical records]} of the monographs' own rows.
    records: dict = field(default_factory=dict)
    # Citations and topics saved or deleted: (model name, id).
    shared: set = field(default_factory=set)
    # {form id: Revision} written when the context ended.
    revisions: dict = field(default_factory=dict)


_current = ContextVar("mgref_change_context", default=None)


@contextmanager
def change_context(*, reason, user=None):
    """Group the writes inside into one revision per monograph.

    Run it inside the transaction of the writes, so that the revisions are
    part of it: a write completes with its revision or not at all.
    """
    context = ChangeContext(reason=reason, user=user)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
    _finish(context)


def _finish(context, *, standalone=False):
    from monographs.services.revisions import revisions_record

    context.revisions = revisions_record(
        records=context.records,
        shared=context.shared,
        user=context.user,
        reason=context.reason,
        standalone=standalone,
    )


class ContentHistory(HistoricalRecords):
    """HistoricalRecords that take reason and author from the change context."""

    def get_change_reason_for_object(self, instance, history_type, using):
        reason = super().get_change_reason_for_object(instance, history_type, using)
        if reason:
            return reason
        context = _current.get()
        return context.reason if context else None

    def get_history_user(self, instance):
        context = _current.get()
        if (
            context is not None
            and context.user is not None
            and not hasattr(instance, "_history_user")
        ):
            return context.user
        return super().get_history_user(instance)


class RevisionedHistoricalModel(models.Model):
    """Base of the historical tables of a monograph's rows."""

    revision = models.ForeignKey(
        "monographs.Revision",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=True,
    )

    class Meta:
        abstract = True


class MonographHistory(ContentHistory):
    """History of a monograph's own rows, grouped into revisions."""

    def __init__(self, **kwargs):
        super().__init__(bases=[RevisionedHistoricalModel], **kwargs)


def monograph_id_of(instance):
    if instance._meta.model_name == "magnesiumform":
        return instance.pk
    return instance.form_id


@receiver(post_create_historical_record)
def collect_record(sender, instance, history_instance, history_user, **kwargs):
    context = _current.get()
    standalone = context is None
    if standalone:
        context = ChangeContext(
            reason=history_instance.history_change_reason or "", user=history_user
        )
    if isinstance(history_instance, RevisionedHistoricalModel):
        context.records.setdefault(monograph_id_of(instance), []).append(
            history_instance
        )
    elif instance._meta.app_label == "monographs":
        context.shared.add((instance._meta.model_name, instance.pk))
    if standalone:
        _finish(context, standalone=True)

"""
Who changed content, why, and in which revision.

A multi-row write (an admin save with its inlines, a seed load, an import, a
revert) runs inside ``change_context(reason=..., user=...)``. Every
historical row it creates carries that reason and author, and the rows of
one monograph are grouped into one ``Revision``: one save, one revision.
A write outside any context still gets a revision of its own, so no change
to a monograph goes unrecorded.
"""

import functools
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


@dataclass
class ChangeContext:
    reason: str
    user: object = None
    revisions: dict = field(default_factory=dict)


_current = ContextVar("mgref_change_context", default=None)


@contextmanager
def change_context(*, reason, user=None):
    context = ChangeContext(reason=reason, user=user)
    token = _current.set(context)
    try:
        yield context
        for revision in context.revisions.values():
            record_size(revision)
    finally:
        _current.reset(token)


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


MONOGRAPH_MODELS = [
    "magnesiumform",
    "synonym",
    "evidence",
    "formsideeffect",
    "dose",
    "interaction",
    "precaution",
    "faq",
]


@functools.cache
def _text_fields(name):
    model = apps.get_model("monographs", name)
    # Reading model.history builds a manager class each time: once is enough.
    workflow = set(model.history.model._history_excluded_fields)
    return model, [
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and field.name not in workflow
    ]


def content_size(form_id):
    """Characters of text a monograph holds now, all its rows included."""
    size = 0
    for name in MONOGRAPH_MODELS:
        model, text_fields = _text_fields(name)
        lookup = {"pk": form_id} if name == "magnesiumform" else {"form_id": form_id}
        for values in model.objects.filter(**lookup).values_list(*text_fields):
            size += sum(len(value or "") for value in values)
    return size


def record_size(revision):
    revision.size = content_size(revision.form_id)
    revision.save(update_fields=["size"])


def monograph_id_of(instance):
    if instance._meta.model_name == "magnesiumform":
        return instance.pk
    return instance.form_id


def revision_for(form_id, *, user, reason):
    """The revision the current write of ``form_id`` belongs to, created on first use."""
    context = _current.get()
    if context is not None and form_id in context.revisions:
        return context.revisions[form_id]
    Revision = apps.get_model("monographs", "Revision")
    revision = Revision.objects.create(
        form_id=form_id,
        number=Revision.objects.latest_number(form_id) + 1,
        user=user,
        summary=reason or "",
    )
    if context is not None:
        context.revisions[form_id] = revision
    else:
        record_size(revision)
    # A published monograph edited again has changes readers don't see yet.
    MagnesiumForm = apps.get_model("monographs", "MagnesiumForm")
    MagnesiumForm.objects.filter(
        pk=form_id, status=MagnesiumForm.Status.PUBLISHED
    ).update(status=MagnesiumForm.Status.DRAFT)
    return revision


@receiver(pre_create_historical_record)
def assign_revision(sender, instance, history_instance, history_user, **kwargs):
    if not isinstance(history_instance, RevisionedHistoricalModel):
        return
    history_instance.revision = revision_for(
        monograph_id_of(instance),
        user=history_user,
        reason=history_instance.history_change_reason,
    )

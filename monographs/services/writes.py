"""Row writes shared by the services: create or update only on change."""

from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class WorkflowError(Exception):
    """A step that cannot be taken now; the message says why."""


class IncompleteDecision(WorkflowError):
    """A decision that lacks what it needs (a comment): the request's fault,
    not the content's state."""


def describe_invalid(instance, error):
    """A ValidationError's messages, each naming the row it is about."""
    label = f"{instance._meta.verbose_name} “{instance}”"
    if not hasattr(error, "error_dict"):
        return [f"{label}: {message}" for message in error.messages]
    return [
        f"{label}: {message}" if name == "__all__" else f"{label}, {name}: {message}"
        for name, errors in error.message_dict.items()
        for message in errors
    ]


def _held_relations(instance, *given):
    """Foreign keys given as saved instances: they exist, so validating them
    would only ask the database again (one query each)."""
    return [
        name
        for values in given
        for name, value in values.items()
        if isinstance(value, models.Model)
        and value.pk is not None
        and not value._state.adding
        and instance._meta.get_field(name).is_relation
    ]


def _full_clean(instance, *, held, validate_constraints=None):
    """Model.full_clean, without asking the database whether the foreign keys
    in ``held`` exist. Unlike full_clean(exclude=...), every unique check and
    constraint still runs, those fields included.

    ``validate_constraints(exclude=...)``, if given, checks the constraints
    in place of the instance's own method (the bulk import checks those
    scoped to one monograph against rows it holds in memory)."""
    errors = {}
    for check in (
        lambda: instance.clean_fields(exclude=held),
        instance.clean,
    ):
        try:
            check()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    # As full_clean does: unique checks only for fields that passed.
    failed = {name for name in errors if name != NON_FIELD_ERRORS}
    for check in (
        instance.validate_unique,
        validate_constraints or instance.validate_constraints,
    ):
        try:
            check(exclude=failed)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def row_upsert(model, lookup, values, counts, *, citations=None):
    """Create or update one row so that it holds ``values``; save only on change."""
    instance = model.objects.filter(**lookup).first()
    created = instance is None
    if created:
        instance = model(**lookup, **values)
    changed = created
    for name, value in values.items():
        if not created and getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    if changed:
        try:
            _full_clean(instance, held=_held_relations(instance, lookup, values))
        except ValidationError as error:
            raise ValidationError(describe_invalid(instance, error)) from None
        instance.save()
    if citations is not None:
        wanted = {citation.pk for citation in citations}
        # A row just created has none yet: no need to ask.
        current = (
            set() if created else set(instance.citations.values_list("pk", flat=True))
        )
        if wanted != current:
            instance.citations.set(wanted)
            changed = True
    if created:
        counts.created += 1
    elif changed:
        counts.updated += 1
    else:
        counts.unchanged += 1
    return instance

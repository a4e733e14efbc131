"""Row writes shared by the services: create or update only on change."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class WorkflowError(Exception):
    """A step that cannot be taken now; the message says why."""


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
            instance.full_clean()
        except ValidationError as error:
            raise ValidationError(describe_invalid(instance, error)) from None
        instance.save()
    if citations is not None:
        wanted = {citation.pk for citation in citations}
        current = set(instance.citations.values_list("pk", flat=True))
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

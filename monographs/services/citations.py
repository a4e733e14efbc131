"""Writing citations in bulk: the admin's reference import."""

from django.db import transaction

from monographs.history import change_context


class ImportRefused(Exception):
    """The plan has errors: nothing was written."""


@transaction.atomic
def citations_import(*, plan, user, reason):
    """Create and update the citations of an import plan
    (``monographs.references_import.import_plan``) as one change.

    Every citation written is recorded in history with ``reason`` and
    ``user``, and every monograph quoting an updated citation gets a pending
    revision, as an edit in the admin does. Returns (created, updated).
    """
    if not reason.strip():
        raise ImportRefused("Give an edit summary: every change needs a reason.")
    if any(item.errors for item in plan):
        raise ImportRefused("Correct the records with errors first.")
    created = updated = 0
    with change_context(reason=reason.strip(), user=user):
        for item in plan:
            if item.action == "create":
                item.citation.save()
                created += 1
            elif item.action == "update":
                item.citation.save()
                updated += 1
    return created, updated

"""Recording the rendered text of the revisions readers can open."""

from django.db import transaction

from monographs.documents import document_load
from monographs.models import Revision
from monographs.pages import MonographPage
from monographs.rendering import RENDERER


def revision_render(*, revision):
    """Render ``revision``'s text and record it on the revision.

    The document itself is untouched: the recording is derived from it, and
    is rebuilt whenever the renderer changes. A deletion has nothing to render.
    """
    if "document" in revision.get_deferred_fields():
        revision = Revision.objects.with_document().get(pk=revision.pk)
    state = document_load(revision)
    if state is None:
        return None
    recording = MonographPage(state, record=True).recording()
    Revision.objects.filter(pk=revision.pk).update(rendering=recording)
    revision.rendering = recording
    return recording


def revisions_render(*, revisions=None, force=False):
    """Record every published revision whose recording is missing or stale.

    Returns how many were rendered. Each is its own small transaction, so a
    long run never holds a lock on the revisions table.
    """
    if revisions is None:
        revisions = Revision.objects.published().filter(deleted=False)
    rendered = 0
    for pk, rendering in revisions.values_list("pk", "rendering").iterator():
        current = isinstance(rendering, dict) and rendering.get("renderer") == RENDERER
        if current and not force:
            continue
        with transaction.atomic():
            revision = Revision.objects.with_document().get(pk=pk)
            revision_render(revision=revision)
        rendered += 1
    return rendered

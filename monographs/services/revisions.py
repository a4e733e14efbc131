"""
Revisions: every write of a monograph ends here, as one immutable document.

``revisions_record`` runs when a change context ends (monographs.history):
it stores a new ``Revision`` for each monograph whose document changed,
links the historical rows of the write to it, and withdraws a deleted
monograph from readers. Reverting and recovering write old documents back
to the live rows, and so end here too.
"""

import functools

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Subquery

from monographs.documents import (
    document_build,
    document_digest,
    document_load,
    document_size,
)
from monographs.history import change_context
from monographs.models import (
    Citation,
    Indication,
    MagnesiumForm,
    Publication,
    ReviewEvent,
    Revision,
    SideEffect,
)
from monographs.models.revisions import display_name, public_name
from monographs.prepared import PreparedValues
from monographs.schema import TOPIC_MODELS, form_fields, row_fields
from monographs.services.merging import document_apply, merge_documents
from monographs.services.writes import WorkflowError

SHARED_MODELS = {
    "citation": ("citation", Citation),
    "indication": ("use", Indication),
    "sideeffect": ("side effect", SideEffect),
}


# ``latest`` of revision_record when the caller has not read it.
LATEST_UNREAD = object()


def revision_record(*, form_id, user, summary, document=None, latest=LATEST_UNREAD):
    """Store the monograph's current document as a new revision, if it changed.

    Returns the new revision, or None when the document equals the latest
    one (a save that changed nothing records nothing). The caller holds the
    monograph's lock (see revisions_record), so numbers never collide.
    ``document`` is the monograph's current document if the caller holds
    it already (the bulk import): it must be what document_build gives.
    ``latest`` is what _latest_query gives, if the caller knows it (None
    for a form the caller just created).
    """
    revision = revision_new(
        form_id=form_id, user=user, summary=summary, document=document, latest=latest
    )
    if revision is None:
        return None
    revision.save(force_insert=True)
    if revision.deleted:
        _withdraw(form_id, revision, user=user, comment=summary or "")
    return revision


def revision_new(*, form_id, user, summary, document=None, latest=LATEST_UNREAD):
    """The unsaved revision revision_record would store, or None: the bulk
    import inserts a batch's new monographs' first revisions at once."""
    if latest is LATEST_UNREAD:
        latest = next(iter(_latest_query().run(form_id)), None)
    if document is None:
        document = document_build(form_id)
    digest = document_digest(document)
    if latest is None and not document:
        return None
    if latest is not None and latest["digest"] == digest:
        return None
    if document:
        name, slug = document["form"]["name"], document["form"]["slug"]
    else:
        # A deletion is public: it is named as readers last saw the monograph,
        # never by a draft's unapproved name.
        name, slug = _public_name(form_id, latest)
    return Revision(
        form_id=form_id,
        number=latest["number"] + 1 if latest else 1,
        user=user,
        author=display_name(user),
        summary=summary or "",
        document=document,
        digest=digest,
        name=name,
        slug=slug,
        size=document_size(document),
        deleted=not document,
    )


@functools.cache
def _lock_query():
    return PreparedValues(
        lambda ids: (
            MagnesiumForm.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
            .values("pk")
        ),
        many=True,
    )


@functools.cache
def _latest_query():
    """The latest revision's number, digest and names: read on every save,
    so compiled once (monographs.prepared)."""
    return PreparedValues(
        lambda form_id: (
            Revision.objects.for_form(form_id)
            .order_by("-number")
            .values("number", "digest", "name", "slug")[:1]
        )
    )


def _public_name(form_id, latest):
    publication = Publication.objects.filter(form_id=form_id).first()
    if publication is not None:
        return publication.name, publication.slug
    return latest["name"], latest["slug"]


def _withdraw(form_id, revision, *, user, comment):
    """A deleted monograph leaves every public list at once, its history kept."""
    publication = Publication.objects.filter(form_id=form_id, withdrawn=False).first()
    if publication is None:
        return
    event = ReviewEvent.objects.create(
        form_id=form_id,
        revision=revision,
        action=ReviewEvent.Action.DELETED,
        user=user,
        user_name=public_name(user),
        comment=comment,
    )
    publication.revision = revision
    publication.withdrawn = True
    publication.approved_by = user
    publication.approved_by_name = public_name(user)
    publication.approved_at = event.created_at
    publication.save()


def _latest_documents():
    """{form id: latest revision} of every monograph that still exists."""
    newest = (
        Revision.objects.values("form_id").annotate(newest=Max("id")).values("newest")
    )
    return {
        revision.form_id: revision
        for revision in Revision.objects.with_document().filter(
            pk__in=Subquery(newest), form_id__in=MagnesiumForm.objects.values("pk")
        )
    }


def _quoting_forms(shared):
    """{form id: summary} of the monographs whose document quotes a changed
    citation or topic; their next document will carry the change."""
    affected = {}
    latest = _latest_documents()
    for model_name, pk in sorted(shared):
        noun, model = SHARED_MODELS[model_name]
        instance = model.objects.filter(pk=pk).first()
        label = f"{noun} “{instance}”" if instance else f"a deleted {noun}"
        for form_id, revision in latest.items():
            document = revision.document
            if not document:
                continue
            if model is Citation:
                quoted = str(pk) in document["citations"] or (
                    instance is not None
                    and f"@{instance.key}"
                    in str(document["form"]) + str(document["rows"])
                )
            else:
                topic = next(
                    name
                    for name, topic_model in TOPIC_MODELS.items()
                    if topic_model == model.__name__
                )
                quoted = str(pk) in document["topics"].get(topic, {})
            if quoted:
                affected.setdefault(form_id, []).append(label)
    return affected


def records_link(records, revision, *, keep=False):
    """Link a write's historical rows to the revision it made; with no
    revision (nothing changed), drop them unless ``keep``."""
    by_model = {}
    for record in records:
        by_model.setdefault(type(record), []).append(record.history_id)
    for model, ids in by_model.items():
        rows = model.objects.filter(history_id__in=ids)
        if revision is not None:
            rows.update(revision=revision)
        elif not keep:
            rows.delete()


def revisions_record(*, records, shared, user, reason, standalone=False):
    """Finish a change context: one revision per monograph that changed.

    ``records`` are the historical rows written, by monograph; ``shared``
    the citations and topics changed, as (model name, id). ``standalone``
    is a single write made outside any context: its historical rows are
    kept whatever happens.
    """
    summaries = dict.fromkeys(records, reason)
    if shared:
        for form_id, labels in _quoting_forms(shared).items():
            if form_id not in summaries:
                summaries[form_id] = f"Changed {', '.join(labels)}: {reason}"
    # Numbered under the monographs' locks, in a fixed order: two writes of
    # one monograph (an editor's save, a citation edit) wait for each other.
    if transaction.get_connection().in_atomic_block:
        _lock_query().run(sorted(summaries))
    revisions = {}
    for form_id, summary in sorted(summaries.items()):
        revision = revision_record(form_id=form_id, user=user, summary=summary)
        # Saves that changed nothing: nothing to record either, unless the
        # write stood alone (its historical rows are kept whatever happens).
        records_link(records.get(form_id, []), revision, keep=standalone)
        if revision is not None:
            revisions[form_id] = revision
    return revisions


def document_restore(form_id, document):
    """Make the live rows of ``form_id`` hold ``document``'s content.

    Citations and topics are shared by all monographs: they are linked as
    they are now, never rewritten. Raises WorkflowError on a clash with
    content saved since.
    """
    state = document_load(None, document)
    problems = []
    for name, model in TOPIC_MODELS.items():
        wanted = {
            getattr(row, f"{name}_id")
            for kind, rows in state.rows()
            if kind.topic == name
            for row in rows
        }
        missing = wanted - set(
            _model(model).objects.filter(pk__in=wanted).values_list("pk", flat=True)
        )
        problems += [f"{name.replace('_', ' ')} #{pk} was deleted" for pk in missing]
    if problems:
        raise WorkflowError(
            "The old revision names topics deleted since: " + "; ".join(problems)
        )
    try:
        with transaction.atomic():
            _write_row(MagnesiumForm, state.form, form_fields())
            for kind, rows in state.rows():
                wanted = {row.pk: row for row in rows}
                kind.model.objects.filter(form_id=form_id).exclude(
                    pk__in=list(wanted)
                ).delete()
                fields = [
                    kind.model._meta.get_field(name).attname
                    for name in row_fields(kind.name)
                ]
                for row in rows:
                    live = _write_row(kind.model, row, ["form_id", *fields])
                    if kind.cites:
                        existing = set(
                            Citation.objects.filter(pk__in=row.cited_ids).values_list(
                                "pk", flat=True
                            )
                        )
                        if set(live.citations.values_list("pk", flat=True)) != existing:
                            live.citations.set(existing)
    except IntegrityError as error:
        raise WorkflowError(
            "The old revision clashes with content saved since (a slug or name now "
            f"used elsewhere, or a duplicated row): {error}"
        ) from None


def _model(name):
    return apps.get_model("monographs", name)


def _write_row(model, wanted, fields):
    live = model.objects.filter(pk=wanted.pk).first()
    attnames = [model._meta.get_field(name).attname for name in fields]
    if live is None:
        instance = model(pk=wanted.pk, **{a: getattr(wanted, a) for a in attnames})
        instance.save(force_insert=True)
        return instance
    changed = [a for a in attnames if getattr(live, a) != getattr(wanted, a)]
    for attname in changed:
        setattr(live, attname, getattr(wanted, attname))
    if changed:
        live.save()
    return live


@transaction.atomic
def monograph_revert(*, form, user, revision_number, reason=""):
    """Bring back the content of revision ``revision_number`` as a new revision."""
    form = MagnesiumForm.objects.select_for_update().get(pk=form.pk)
    revisions = Revision.objects.with_document().for_form(form.pk)
    target = revisions.filter(number=revision_number).first()
    if target is None:
        raise WorkflowError(f"{form} has no revision {revision_number}.")
    if target.is_deletion:
        raise WorkflowError(
            f"Revision {target.number} deleted {form}: nothing to revert to."
        )
    latest = revisions.order_by("-number").first()
    if target.digest == latest.digest or target.document == latest.document:
        raise WorkflowError(
            f"Revision {target.number} is the same as the current content."
        )
    summary = f"Reverted to revision {target.number}"
    if reason.strip():
        summary = f"{summary}: {reason.strip()}"
    with change_context(reason=summary, user=user) as context:
        document_restore(form.pk, target.document)
    revision = context.revisions.get(form.pk)
    if revision is None:
        raise WorkflowError(
            f"Revision {target.number} is the same as the current content."
        )
    return revision


@transaction.atomic
def monograph_delete(*, form, user, reason):
    """Delete a monograph: a revision with an empty document, which withdraws
    it from readers at once."""
    with change_context(reason=reason, user=user) as context:
        MagnesiumForm.objects.get(pk=form.pk).delete()
    return context.revisions.get(form.pk)


@transaction.atomic
def monograph_recover(*, form_id, user):
    """Recreate a deleted monograph as it was before deletion, as a draft."""
    if MagnesiumForm.objects.filter(pk=form_id).exists():
        raise WorkflowError("This monograph has not been deleted.")
    before = Revision.objects.with_document().latest_content_for(form_id)
    if before is None:
        raise WorkflowError("There is no saved state of this monograph to recover.")
    holder = MagnesiumForm.objects.filter(
        Q(slug=before.slug) | Q(name=before.name)
    ).first()
    if holder is not None:
        taken = "address" if holder.slug == before.slug else "name"
        raise WorkflowError(
            f"{holder.name} has taken this monograph's {taken} since it was "
            f"deleted: give {holder.name} another {taken} first."
        )
    with change_context(
        reason=f"Recovered after deletion, as of revision {before.number}", user=user
    ) as context:
        document_restore(form_id, before.document)
    return context.revisions.get(form_id)


def deleted_monographs():
    """The latest revision of each deleted monograph: what recovery starts from."""
    newest = (
        Revision.objects.values("form_id").annotate(newest=Max("id")).values("newest")
    )
    return (
        Revision.objects.filter(pk__in=Subquery(newest), deleted=True)
        .exclude(form_id__in=MagnesiumForm.objects.values("pk"))
        .select_related("user")
        .order_by("-created_at")
    )


def _undo_plan(form_id, revision_number):
    """(latest, undone revision, merge, document with it undone) for undoing
    revision ``revision_number``: its changes merged out of the latest
    document, three ways (base: that revision; theirs: the one before it)."""
    revisions = Revision.objects.with_document().for_form(form_id)
    target = revisions.filter(number=revision_number).first()
    if target is None:
        raise WorkflowError(f"There is no revision {revision_number}.")
    if revision_number == 1:
        raise WorkflowError(
            "Revision 1 created the monograph: there is nothing before it to go "
            "back to."
        )
    if target.deleted:
        raise WorkflowError(f"Revision {revision_number} deleted the monograph.")
    before = revisions.filter(number=revision_number - 1).first()
    if before is None or before.deleted:
        raise WorkflowError(
            f"Revision {revision_number} recovered the monograph after a deletion: "
            "revert to an earlier revision instead."
        )
    latest = revisions.order_by("-number").first()
    mine_rows = {}
    for kind, rows in latest.document["rows"].items():
        by_id = {row["id"]: row for row in rows}
        for row in target.document["rows"].get(kind, []):
            by_id.setdefault(row["id"], None)  # deleted since
        mine_rows[kind] = by_id
    mine = {"form": latest.document["form"], "rows": mine_rows}
    result = merge_documents(target.document, before.document, mine)
    undone = document_apply(latest.document, result, theirs=before.document)
    return latest, target, result, undone


def monograph_undo_preview(*, form, revision_number):
    """What undoing revision ``revision_number`` would do, without doing it:
    (latest revision, undone revision, merge result, resulting document)."""
    return _undo_plan(form.pk, revision_number)


@transaction.atomic
def monograph_undo(*, form, user, revision_number, reason=""):
    """Reverse just the changes of revision ``revision_number``, keeping every
    later edit, as MediaWiki's undo does; refused where a later edit changed
    the same field or row."""
    form = MagnesiumForm.objects.select_for_update().get(pk=form.pk)
    _, target, result, undone = _undo_plan(form.pk, revision_number)
    if result.conflicts:
        labels = "; ".join(conflict.label for conflict in result.conflicts)
        raise WorkflowError(
            f"Revision {revision_number} cannot be undone automatically: later "
            f"edits changed the same things ({labels}). Edit them by hand."
        )
    summary = f"Undid revision {target.number} by {target.author_name}"
    if reason.strip():
        summary = f"{summary}: {reason.strip()}"
    with change_context(reason=summary, user=user) as context:
        document_restore(form.pk, undone)
    revision = context.revisions.get(form.pk)
    if revision is None:
        raise WorkflowError(
            f"The changes of revision {revision_number} are already undone."
        )
    return revision

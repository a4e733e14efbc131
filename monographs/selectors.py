"""
What readers see, read from published documents only.

Every public page, permalink, diff, feed, export and the API starts from a
``Publication`` (the revision a reviewer approved) and reads that revision's
document. Nothing here reads the live content rows or the history tables,
so readers see exactly what was approved, for ever.
"""

import functools
from dataclasses import dataclass

from django.db import router

from monographs.documents import document_load
from monographs.models import MagnesiumForm, Publication, ReviewEvent, Revision
from monographs.prepared import PreparedValues
from monographs.reversing import cached_reverse


@dataclass
class Monograph:
    """The monograph a page is about: its published name and slug for
    readers, the draft's for staff."""

    pk: int
    name: str
    slug: str
    publication: Publication | None = None
    live: MagnesiumForm | None = None  # staff only: the editable form

    def __str__(self):
        return self.name

    @property
    def withdrawn(self):
        return self.publication is not None and self.publication.withdrawn

    @property
    def published_revision(self):
        if self.publication is None or self.publication.withdrawn:
            return None
        return self.publication.revision

    @property
    def published_revision_id(self):
        revision = self.published_revision
        return revision.pk if revision else None

    def get_absolute_url(self):
        return cached_reverse("monographs:form-detail", (self.slug,))

    def get_status_display(self):
        return self.live.get_status_display() if self.live else "Published"


# Read by the monograph page: the revision's document and recorded HTML.
DOCUMENT_FIELDS = ("document", "rendering")


@functools.cache
def _publication_query(with_document):
    """The publication at a slug with its revision's fields, compiled once
    (monographs.prepared): composing this query was most of its time."""
    revision_fields = [
        field.attname
        for field in Revision._meta.concrete_fields
        if with_document or field.name not in DOCUMENT_FIELDS
    ]
    return PreparedValues(
        lambda slug: (
            Publication.objects.filter(slug=slug)
            .order_by("withdrawn")
            .values(
                *(field.attname for field in Publication._meta.concrete_fields),
                *(f"revision__{name}" for name in revision_fields),
            )[:1]
        )
    )


def _from_values(model, values, prefix=""):
    """An instance of ``model`` from a values() row, as the ORM loads one;
    the fields the row lacks are deferred."""
    fields = [
        field.attname
        for field in model._meta.concrete_fields
        if f"{prefix}{field.attname}" in values
    ]
    return model.from_db(
        router.db_for_read(model),
        fields,
        [values[f"{prefix}{name}"] for name in fields],
    )


def publication_by_slug(slug, *, with_document=True):
    """The live publication at /forms/<slug>/, else a withdrawn one, or None.

    One query, its revision loaded with it (without its document and
    recorded HTML unless ``with_document``).
    """
    rows = _publication_query(with_document).run(
        slug, using=router.db_for_read(Publication)
    )
    if not rows:
        return None
    publication = _from_values(Publication, rows[0])
    revision = _from_values(Revision, rows[0], "revision__")
    Publication.revision.field.set_cached_value(publication, revision)
    return publication


def former_slug_target(slug):
    """The current address of a monograph once published under ``slug``."""
    revision = (
        Revision.objects.published()
        .filter(slug=slug)
        .order_by("-created_at")
        .values_list("form_id", flat=True)
        .first()
    )
    if revision is None:
        return None
    publication = Publication.objects.filter(form_id=revision).first()
    if publication is None or publication.slug == slug:
        return None
    return publication.slug


def synonym_target(slug):
    """The published slug a published synonym's address redirects to: one
    query over the publications, no document read."""
    for form_slug, synonyms in Publication.objects.live().values_list(
        "slug", "synonym_slugs"
    ):
        if slug in synonyms:
            return form_slug
    return None


def current_slug(slug):
    """The published slug a synonym or a former slug of a monograph leads
    to, or None: where an old address of its pages redirects."""
    return synonym_target(slug) or former_slug_target(slug)


def published_monographs(*, kinds=None, citations=True):
    """Every published monograph's document, by name: one query.

    ``kinds`` and ``citations`` load only those kinds of row, and the cited
    citations or not (see document_load): the lists of forms need neither,
    and building every row and citation of every monograph was most of
    their time.
    """
    publications = (
        Publication.objects.live()
        .select_related("revision")
        # The recorded HTML of the texts is for monograph pages, not lists.
        .defer("revision__rendering")
    )
    monographs = []
    for publication in publications:
        monograph = document_load(
            publication.revision, kinds=kinds, citations=citations
        )
        monograph.publication = publication
        monographs.append(monograph)
    # As a reader looks for a name: "Magnesium L-threonate" after "aspartate".
    monographs.sort(key=lambda monograph: monograph.form.name.casefold())
    return monographs


def published_forms(*, kinds=None, citations=True):
    """Every published monograph's form as approved, by name (``kinds`` and
    ``citations`` as for published_monographs)."""
    forms = []
    for monograph in published_monographs(kinds=kinds, citations=citations):
        form = monograph.form
        form.publication = monograph.publication
        form.monograph = monograph
        forms.append(form)
    return forms


def published_rows(kind_name, monographs=None, **matching):
    """Rows of one kind from every published document, each with its form.

    ``matching`` filters on attributes, e.g. indication_id=3.
    """
    monographs = published_monographs() if monographs is None else monographs
    rows = []
    for monograph in monographs:
        for row in getattr(monograph, kind_name):
            if all(getattr(row, name) == value for name, value in matching.items()):
                rows.append(row)
    return rows


def published_topics(topic, monographs=None):
    """{id: topic as most recently approved} of the topics published rows name."""
    monographs = published_monographs() if monographs is None else monographs
    found = {}
    latest = {}
    for monograph in monographs:
        approved = monograph.publication.approved_at
        for pk, instance in monograph.topics.get(topic, {}).items():
            if pk not in latest or approved > latest[pk]:
                found[pk], latest[pk] = instance, approved
    return dict(sorted(found.items(), key=lambda item: item[1].name))


@dataclass
class CitationUse:
    citation: object  # as the most recently approved citing document has it
    forms: list


def published_citations(monographs=None):
    """{citation id: CitationUse} over the published documents, by key.

    A document cites what its rows attach and what its text marks [@key];
    each citation is shown as the most recently approved document has it.
    """
    monographs = published_monographs() if monographs is None else monographs
    uses = {}
    approved = {}
    for monograph in monographs:
        when = monograph.publication.approved_at
        for citation in monograph.reader_citations().values():
            use = uses.setdefault(citation.pk, CitationUse(citation, []))
            use.forms.append(monograph.form)
            if citation.pk not in approved or when > approved[citation.pk]:
                use.citation, approved[citation.pk] = citation, when
    for use in uses.values():
        use.forms.sort(key=lambda form: form.name)
    return dict(sorted(uses.items(), key=lambda item: item[1].citation.key))


def revision_approval(revision):
    """The event that approved ``revision``, or None if none did."""
    return (
        ReviewEvent.objects.filter(
            revision=revision, action=ReviewEvent.Action.APPROVED
        )
        .select_related("user")
        .order_by("-created_at", "-pk")
        .first()
    )


@functools.cache
def _approved_revision_query():
    """Revision n of a monograph with its latest public review event and its
    author's names, compiled once (monographs.prepared)."""
    User = Revision.user.field.related_model
    return PreparedValues(
        lambda form_and_number: (
            ReviewEvent.objects.filter(
                form_id=form_and_number[0],
                revision__number=form_and_number[1],
                action__in=ReviewEvent.PUBLIC,
            )
            .order_by("-created_at", "-pk")
            .values(
                *(field.attname for field in ReviewEvent._meta.concrete_fields),
                *(f"revision__{f.attname}" for f in Revision._meta.concrete_fields),
                # What a revision's author_name reads; nothing else of the account.
                *(
                    f"revision__user__{name}"
                    for name in (User._meta.pk.attname, "first_name", "last_name")
                ),
            )[:1]
        ),
        many=True,
    )


def approved_revision(form_id, number):
    """Revision ``number`` of a monograph, if readers may open it, with its
    review event (approval or withdrawal): one query."""
    rows = _approved_revision_query().run(
        [form_id, number], using=router.db_for_read(ReviewEvent)
    )
    if not rows:
        return None, None
    event = _from_values(ReviewEvent, rows[0])
    revision = _from_values(Revision, rows[0], "revision__")
    ReviewEvent.revision.field.set_cached_value(event, revision)
    if revision.user_id is not None:
        user = _from_values(
            Revision.user.field.related_model, rows[0], "revision__user__"
        )
        Revision.user.field.set_cached_value(revision, user)
    return revision, event

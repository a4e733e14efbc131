from django.conf import settings
from django.db import models
from django.utils import timezone

from monographs.models.fields import FastJSONDecoder, FastJSONEncoder
from monographs.reversing import cached_reverse


class RevisionQuerySet(models.QuerySet):
    def for_form(self, form_id):
        return self.filter(form_id=form_id)

    def published(self):
        """Revisions readers may open: the ones a reviewer approved, and the
        deletions that withdrew a published monograph."""
        return self.filter(
            pk__in=ReviewEvent.objects.filter(action__in=ReviewEvent.PUBLIC).values(
                "revision_id"
            )
        )

    def with_document(self):
        return self.defer(None)

    def latest_for(self, form_id):
        return self.for_form(form_id).order_by("-number").first()

    def latest_content_for(self, form_id):
        """The latest revision that holds the monograph: before its deletion,
        what recovery restores."""
        return self.for_form(form_id).filter(deleted=False).order_by("-number").first()


class RevisionManager(models.Manager.from_queryset(RevisionQuerySet)):
    def get_queryset(self):
        # A document and its rendering can be large: lists of revisions
        # never need them, and the pages that do ask for them (with_document,
        # or a Publication's select_related).
        return super().get_queryset().defer("document", "rendering")

    def latest_number(self, form_id):
        return (
            self.for_form(form_id).aggregate(latest=models.Max("number"))["latest"] or 0
        )


class Revision(models.Model):
    """One edit of one monograph, holding the whole monograph as one document.

    Written only by ``monographs.services.revisions``: every admin save,
    import, revert, recovery, seed and deletion ends there. A revision never
    changes once written. Historical rows (django-simple-history) point to
    the revision that wrote them: the row-level audit trail behind the admin.
    """

    # No database constraint: revisions outlive a deleted monograph, so that
    # it can be recovered from them.
    form = models.ForeignKey(
        "MagnesiumForm",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="revisions",
    )
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = models.TextField(blank=True, help_text="The edit summary.")
    size = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Characters of text the monograph held after this revision.",
    )
    document = models.JSONField(
        default=dict,
        encoder=FastJSONEncoder,
        decoder=FastJSONDecoder,
        help_text="The whole monograph after this revision (monographs.documents); "
        "empty if it deleted the monograph.",
    )
    # Derived from the document, never part of it: its Markdown as HTML,
    # recorded when the revision is approved (monographs.rendering).
    rendering = models.JSONField(
        null=True,
        encoder=FastJSONEncoder,
        decoder=FastJSONDecoder,
        blank=True,
        editable=False,
        help_text="The document's text rendered by one version of the Markdown "
        "renderer, in page order; rebuilt when the renderer changes.",
    )
    # Copied from the document, so that lists of revisions need not load it.
    name = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=100, blank=True, db_index=False)
    deleted = models.BooleanField(
        default=False, help_text="This revision deleted the monograph."
    )
    digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of the document: a save is compared with the latest "
        "revision by this alone.",
    )
    # The author's public name as it was when the revision was written: a
    # permalink shows the same name for ever, and never a login name.
    author = models.CharField(max_length=150, blank=True)

    objects = RevisionManager()

    class Meta:
        ordering = ["form_id", "-number"]
        indexes = [
            # Who keeps an address (forms.kept_slug_owner), on every save of a
            # monograph and every imported file: a scan of all revisions else.
            models.Index(fields=["slug"], name="revision_slug_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "number"], name="revision_number_unique_per_form"
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="revision_number_positive"
            ),
        ]

    def __str__(self):
        return f"{self.form_id} revision {self.number}"

    def get_absolute_url(self):
        return cached_reverse("monographs:revision-detail", (self.slug, self.number))

    @property
    def author_name(self):
        return self.author or display_name(self.user)

    @property
    def is_deletion(self):
        return self.deleted


ANONYMOUS_STAFF_NAME = "an mgref editor"


# Who took a review step no person took: loading the seed, an import run
# without naming a reviewer.
NO_PERSON = "no one (seed or import)"


def display_name(user):
    """A person's public name: their full name, never their login name."""
    if user is None:
        return "mgref"
    return user.get_full_name() or ANONYMOUS_STAFF_NAME


def public_name(user):
    """The name a review step records: the person's public name, or nothing
    when no person took it (which readers are then told)."""
    return "" if user is None else display_name(user)


class ReviewEvent(models.Model):
    """A step of the review workflow: submitted, approved, or sent back."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", "Submitted for review"
        APPROVED = "approved", "Approved and published"
        CHANGES_REQUESTED = "changes-requested", "Changes requested"
        DELETED = "deleted", "Deleted and withdrawn from readers"

    # Events that changed what readers see.
    PUBLIC = (Action.APPROVED, Action.DELETED)

    form = models.ForeignKey(
        "MagnesiumForm",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="review_events",
    )
    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, related_name="review_events"
    )
    action = models.CharField(max_length=20, choices=Action)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    user_name = models.CharField(
        max_length=150,
        blank=True,
        help_text=(
            "The public name of whoever took this step, as it was then (kept if "
            "the account goes); empty when no person did, as for the seed."
        ),
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_action_display()}: revision {self.revision.number}"

    def get_absolute_url(self):
        return self.revision.get_absolute_url()

    @property
    def by_person(self):
        """Whether a person took this step: the seed's approval was no review."""
        return bool(self.user_name)

    @property
    def actor(self):
        """Who took this step, as staff pages and notifications name them."""
        return self.user_name or NO_PERSON


class PublicationQuerySet(models.QuerySet):
    def live(self):
        """Monographs readers can open now (not withdrawn by deletion)."""
        return self.filter(withdrawn=False)


class Publication(models.Model):
    """What readers see of one monograph: the revision a reviewer approved.

    Approval points this at a revision, in the same transaction as its
    review event; every public page, permalink, feed, export and the API
    starts here. Deleting a published monograph withdraws it: the row stays,
    pointing at the deletion, so its approved history remains readable.
    """

    form = models.OneToOneField(
        "MagnesiumForm",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="publication",
    )
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, db_index=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_by_name = models.CharField(
        max_length=150, blank=True, help_text="The approver's public name, as shown."
    )
    approved_at = models.DateTimeField()
    withdrawn = models.BooleanField(default=False)
    # Copied from the document on approval: redirects from a synonym's
    # address need no document read.
    synonym_slugs = models.JSONField(default=list, blank=True)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(withdrawn=False),
                name="publication_slug_unique",
                violation_error_message="Another published monograph has this address.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return cached_reverse("monographs:form-detail", (self.slug,))

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class RevisionQuerySet(models.QuerySet):
    def for_form(self, form_id):
        return self.filter(form_id=form_id)

    def published(self):
        """Revisions a reviewer approved: the ones readers may open."""
        return self.filter(review_events__action=ReviewEvent.Action.APPROVED).distinct()

    def latest_number(self, form_id):
        return (
            self.for_form(form_id).aggregate(latest=models.Max("number"))["latest"] or 0
        )


class Revision(models.Model):
    """One edit of one monograph: every row an admin save, import or revert touched.

    Historical rows of the monograph's tables point to the revision that wrote
    them, so the whole monograph can be rebuilt as it was at any revision.
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

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["form_id", "-number"]
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
        return reverse("monographs:revision-detail", args=[self.form.slug, self.number])

    @property
    def author_name(self):
        return display_name(self.user)


def display_name(user):
    if user is None:
        return "mgref"
    return user.get_full_name() or user.get_username()


class ReviewEvent(models.Model):
    """A step of the review workflow: submitted, approved, or sent back."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", "Submitted for review"
        APPROVED = "approved", "Approved and published"
        CHANGES_REQUESTED = "changes-requested", "Changes requested"

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
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_action_display()}: revision {self.revision.number}"

    def get_absolute_url(self):
        return self.revision.get_absolute_url()

    @property
    def user_name(self):
        return display_name(self.user)

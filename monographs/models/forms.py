from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify

from monographs.history import MonographHistory
from monographs.reference import SALTS, SALTS_BY_KEY
from monographs.reversing import cached_reverse
from monographs.validators import refuse_bidi_name

from .fields import MarkdownField


class MagnesiumFormQuerySet(models.QuerySet):
    def published(self):
        """Forms readers can open: approved at least once and not withdrawn."""
        return self.filter(publication__withdrawn=False)

    def with_status(self):
        """Annotate ``workflow_status``, read from the monograph's review events.

        Workflow state is not stored on the content row. The last review
        event says it: submitted (in review, even if edited since), changes
        requested, or approved: "published" while no newer revision exists,
        "published, with changes not yet submitted" once one does.
        """
        from monographs.models.revisions import ReviewEvent, Revision

        last_event = ReviewEvent.objects.filter(form=models.OuterRef("pk")).order_by(
            "-created_at", "-pk"
        )
        newest = Revision.objects.filter(form=models.OuterRef("pk")).order_by("-number")
        Status = MagnesiumForm.Status
        return self.alias(
            last_action=models.Subquery(last_event.values("action")[:1]),
            last_event_number=models.Subquery(
                last_event.values("revision__number")[:1]
            ),
            newest_number=models.Subquery(newest.values("number")[:1]),
        ).annotate(
            workflow_status=models.Case(
                models.When(
                    last_action="submitted", then=models.Value(Status.IN_REVIEW)
                ),
                models.When(
                    last_action="changes-requested",
                    then=models.Value(Status.CHANGES_REQUESTED),
                ),
                models.When(
                    last_action="approved",
                    last_event_number=models.F("newest_number"),
                    then=models.Value(Status.PUBLISHED),
                ),
                # Edited since the approval (a citation it quotes, say), and
                # nobody has submitted the changes yet.
                models.When(
                    last_action="approved",
                    then=models.Value(Status.PUBLISHED_WITH_CHANGES),
                ),
                default=models.Value(Status.DRAFT),
                output_field=models.CharField(),
            )
        )

    def awaiting_review(self):
        return self.with_status().filter(workflow_status=MagnesiumForm.Status.IN_REVIEW)

    def by_name(self, name):
        """The form whose name, slug or synonym matches ``name``, or None.

        "Bisglycinate", "Magnesium bisglycinate" and "magnesium-diglycinate"
        all resolve to Magnesium glycinate.
        """
        slug = slugify(name)
        candidates = {slug, slug.removeprefix("magnesium-"), f"magnesium-{slug}"}
        return (
            self.filter(
                models.Q(name__iexact=name.strip())
                | models.Q(slug__in=candidates)
                | models.Q(synonyms__slug__in=candidates)
                | models.Q(synonyms__name__iexact=name.strip())
            )
            .distinct()
            .first()
        )


class MagnesiumForm(models.Model):
    """One monograph: a magnesium salt or chelate and everything said about it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in-review", "In review"
        CHANGES_REQUESTED = "changes-requested", "Changes requested"
        PUBLISHED = "published", "Published"
        PUBLISHED_WITH_CHANGES = (
            "published-with-changes",
            "Published, with changes not yet submitted",
        )

    class Category(models.TextChoices):
        AMINO_ACID_CHELATE = "amino-acid-chelate", "Amino-acid chelate"
        AMINO_ACID_SALT = "amino-acid-salt", "Amino-acid salt"
        ORGANIC_SALT = "organic-salt", "Organic salt"
        INORGANIC = "inorganic", "Inorganic"

    name = models.CharField(max_length=100, help_text="e.g. 'Magnesium glycinate'.")
    slug = models.SlugField(
        max_length=100,
        db_index=False,
        help_text="The address of the monograph: /forms/<slug>/. Changing it breaks links.",
    )
    category = models.CharField(max_length=30, choices=Category)
    formula_basis = models.CharField(
        max_length=100,
        blank=True,
        help_text="The formula the elemental percentage is calculated on, e.g. 'MgCl2 (anhydrous)'.",
    )
    elemental_mg_percent = models.DecimalField(
        "elemental magnesium (% by weight)",
        max_digits=5,
        decimal_places=2,
        help_text="Share of the compound's weight that is magnesium, e.g. 14.1.",
    )
    salt = models.CharField(
        "salt in the reference table",
        max_length=20,
        choices=[(salt.key, salt.name) for salt in SALTS],
        blank=True,
        help_text=(
            "Studies of this salt count as evidence for the form; any other is "
            "indirect. Also gives the hydrates of the label-weight calculator."
        ),
    )
    composition_note = MarkdownField(
        blank=True,
        help_text="Hydrates and other salt forms, and where the percentage comes from.",
    )
    absorption_notes = MarkdownField(blank=True)
    tolerability_notes = MarkdownField("GI tolerability notes", blank=True)
    summary = MarkdownField(
        blank=True, help_text="Two or three sentences a reader sees first."
    )
    usage = MarkdownField(blank=True)
    mechanism = MarkdownField("how it works", blank=True)
    dosage_notes = MarkdownField(
        blank=True,
        help_text="Context for the dosing table. State doses as elemental magnesium.",
    )
    precaution_notes = MarkdownField(
        "precautions",
        blank=True,
        help_text="General advice shown above the list of precautions.",
    )
    disclaimer = MarkdownField(blank=True)
    other_sections = MarkdownField(
        blank=True,
        help_text=(
            "Sections an import could not place, kept here rather than dropped. "
            "Not shown to readers: move their content to the right field."
        ),
    )

    editor_notes = MarkdownField(
        "notes for editors",
        blank=True,
        help_text=(
            "What still needs doing, e.g. a claim whose source was not identified. "
            "Reviewers see it in the diff; readers, the API and exports never do."
        ),
    )

    objects = MagnesiumFormQuerySet.as_manager()
    history = MonographHistory()

    class Meta:
        ordering = ["name"]
        verbose_name = "magnesium form"
        permissions = [("publish_magnesiumform", "Can approve and publish monographs")]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="form_slug_unique"),
            models.UniqueConstraint(fields=["name"], name="form_name_unique"),
            models.CheckConstraint(
                condition=models.Q(elemental_mg_percent__gt=0)
                & models.Q(elemental_mg_percent__lte=100),
                name="form_elemental_percent_range",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return cached_reverse("monographs:form-detail", (self.slug,))

    # Workflow state, read from the revisions and the publication (see
    # monographs.selectors for the readers' side, which never comes here).

    @property
    def live_publication(self):
        from monographs.models.revisions import Publication

        return Publication.objects.live().filter(form_id=self.pk).first()

    @property
    def published_revision(self):
        publication = self.live_publication
        return publication.revision if publication else None

    @property
    def published_revision_id(self):
        publication = self.live_publication
        return publication.revision_id if publication else None

    @property
    def status(self):
        if getattr(self, "workflow_status", None):
            return self.workflow_status
        return (
            type(self)
            .objects.with_status()
            .filter(pk=self.pk)
            .values_list("workflow_status", flat=True)
            .first()
            or self.Status.DRAFT
        )

    def get_status_display(self):
        return self.Status(self.status).label

    def clean(self):
        super().clean()
        refuse_bidi_name(self)
        if self.elemental_mg_percent is not None and not (
            0 < self.elemental_mg_percent <= 100
        ):
            raise ValidationError(
                {"elemental_mg_percent": "Enter a percentage above 0 and at most 100."}
            )
        # The bulk import passes the synonyms' slugs it holds, as
        # _synonym_slugs, rather than have each new form ask.
        synonym_slugs = getattr(self, "_synonym_slugs", None)
        if self.slug and (
            self.slug in synonym_slugs
            if synonym_slugs is not None
            else Synonym.objects.filter(slug=self.slug).exists()
        ):
            raise ValidationError({"slug": "This slug is already used by a synonym."})
        if self.slug:
            _refuse_kept_slug(self.slug, form_id=self.pk)

    @property
    def reference_salt(self):
        """The salt's entry in the reference table (monographs.reference), or None."""
        return SALTS_BY_KEY.get(self.salt)

    def elemental_mg_in(self, salt_mg):
        """Elemental magnesium in ``salt_mg`` milligrams of this compound."""
        return salt_mg * self.elemental_mg_percent / 100


class Synonym(models.Model):
    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="synonyms"
    )
    name = models.CharField(max_length=100, help_text="e.g. 'Magnesium bisglycinate'.")
    slug = models.SlugField(
        max_length=100,
        db_index=False,
        help_text="/forms/<slug>/ redirects to the form's own page.",
    )

    history = MonographHistory()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="synonym_slug_unique"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return self.form.get_absolute_url()

    def clean(self):
        super().clean()
        refuse_bidi_name(self)
        if self.slug and MagnesiumForm.objects.filter(slug=self.slug).exists():
            raise ValidationError({"slug": "A form already has this slug."})
        if self.slug:
            _refuse_kept_slug(self.slug, form_id=self.form_id)


def kept_slug_owner(slug, *, form_id=None):
    """(name, id) of another monograph that keeps /forms/<slug>/ for ever, or
    None: one that was published there (its permanent links and history stay
    at that address, which redirects to its current one) or that was deleted
    there (it can be recovered, at that address). One query."""
    from monographs.models.revisions import ReviewEvent, Revision

    public = ReviewEvent.objects.filter(action__in=ReviewEvent.PUBLIC)
    return (
        Revision.objects.filter(slug=slug)
        .exclude(form_id=form_id)
        .filter(
            models.Q(pk__in=public.values("revision_id"))
            | ~models.Q(form_id__in=MagnesiumForm.objects.values("pk"))
        )
        .order_by("-created_at")
        .values_list("name", "form_id")
        .first()
    )


def _refuse_kept_slug(slug, *, form_id):
    owner = kept_slug_owner(slug, form_id=form_id)
    if owner is None:
        return
    name, owner_id = owner
    if MagnesiumForm.objects.filter(pk=owner_id).exists():
        message = (
            f"/forms/{slug}/ is {name}’s address: its permanent links and "
            "history stay there for good, so no other monograph can take it. "
            "Choose another slug."
        )
    else:
        message = (
            f"/forms/{slug}/ is the address of {name}, which was deleted: its "
            "history stays there. To bring it back, recover it from the deleted "
            "monographs; else choose another slug."
        )
    raise ValidationError({"slug": message})

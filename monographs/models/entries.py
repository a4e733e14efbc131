"""The rows of a monograph: evidence, side effects, doses, interactions…"""

from django.core.exceptions import ValidationError
from django.db import models

from monographs.history import MonographHistory
from monographs.reference import SUPPLEMENT_UL_MG

from .citations import Citation
from .fields import MarkdownField
from .forms import MagnesiumForm
from .topics import Indication, SideEffect


class Evidence(models.Model):
    """What the studies say about one form for one indication."""

    class Direction(models.TextChoices):
        BENEFIT = "benefit", "Improves"
        MIXED = "mixed", "Mixed results"
        NO_EFFECT = "no-effect", "No effect"
        HARM = "harm", "Worsens"

    class Certainty(models.TextChoices):
        HIGH = "high", "High"
        MODERATE = "moderate", "Moderate"
        LOW = "low", "Low"
        VERY_LOW = "very-low", "Very low"

    class Applicability(models.TextChoices):
        DIRECT = "direct", "Studies of this form"
        INDIRECT = "indirect", "Studies of magnesium in general"

    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="evidence"
    )
    indication = models.ForeignKey(
        Indication, on_delete=models.PROTECT, related_name="evidence"
    )
    direction = models.CharField(max_length=20, choices=Direction)
    certainty = models.CharField(
        "GRADE certainty",
        max_length=20,
        choices=Certainty,
        help_text="Rate down for indirectness when the trials used another form.",
    )
    applicability = models.CharField(
        max_length=20,
        choices=Applicability,
        help_text="Most sleep trials used magnesium oxide: that is indirect evidence for other forms.",
    )
    studies_improved = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="n in 'n of m studies improved'. Leave both empty if no tally was reported.",
    )
    studies_total = models.PositiveSmallIntegerField(null=True, blank=True)
    summary = MarkdownField(blank=True)
    citations = models.ManyToManyField(Citation, blank=True, related_name="evidence")

    history = MonographHistory(m2m_fields=[citations])

    class Meta:
        ordering = ["indication__name"]
        verbose_name_plural = "evidence"
        constraints = [
            models.UniqueConstraint(
                fields=["form", "indication"], name="evidence_form_indication_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    studies_improved__isnull=True, studies_total__isnull=True
                )
                | models.Q(
                    studies_improved__isnull=False,
                    studies_total__isnull=False,
                    studies_total__gte=1,
                    studies_improved__lte=models.F("studies_total"),
                ),
                name="evidence_tally_consistent",
            ),
        ]

    def __str__(self):
        return f"{self.form}: {self.indication}"

    def get_absolute_url(self):
        return f"{self.form.get_absolute_url()}#evidence-{self.indication.slug}"

    def clean(self):
        super().clean()
        improved, total = self.studies_improved, self.studies_total
        if (improved is None) != (total is None):
            raise ValidationError(
                "Give both numbers of the tally ('n of m studies'), or neither."
            )
        if total is not None and total < 1:
            raise ValidationError(
                {"studies_total": "A tally needs at least one study."}
            )
        if improved is not None and total is not None and improved > total:
            raise ValidationError(
                {
                    "studies_improved": f"{improved} of {total}: more studies improved than there were."
                }
            )

    @property
    def tally(self):
        if self.studies_total is None:
            return ""
        return f"{self.studies_improved} of {self.studies_total} studies improved"


class FormSideEffect(models.Model):
    class Frequency(models.TextChoices):
        COMMON = "common", "Common"
        UNCOMMON = "uncommon", "Uncommon"
        RARE = "rare", "Rare"

    class Seriousness(models.TextChoices):
        MILD = "mild", "Usually mild"
        SEEK_ATTENTION = "seek-attention", "Seek medical attention"

    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="side_effects"
    )
    side_effect = models.ForeignKey(
        SideEffect, on_delete=models.PROTECT, related_name="reports"
    )
    frequency = models.CharField(max_length=20, choices=Frequency)
    seriousness = models.CharField(max_length=20, choices=Seriousness)
    notes = MarkdownField(blank=True)
    citations = models.ManyToManyField(
        Citation, blank=True, related_name="side_effects"
    )

    history = MonographHistory(m2m_fields=[citations])

    class Meta:
        ordering = ["side_effect__name"]
        verbose_name = "side effect of a form"
        verbose_name_plural = "side effects of forms"
        constraints = [
            models.UniqueConstraint(
                fields=["form", "side_effect"], name="form_side_effect_unique"
            ),
        ]

    def __str__(self):
        return f"{self.form}: {self.side_effect}"

    def get_absolute_url(self):
        return f"{self.form.get_absolute_url()}#side-effects"


class Dose(models.Model):
    """Dosing guidance, always in milligrams of elemental magnesium per day."""

    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="doses"
    )
    population = models.CharField(max_length=200, help_text="e.g. 'Adults'.")
    purpose = models.CharField(
        max_length=200, help_text="e.g. 'General supplementation'."
    )
    minimum_mg = models.PositiveIntegerField(
        "minimum (mg elemental Mg/day)",
        help_text="Elemental magnesium, not salt weight.",
    )
    maximum_mg = models.PositiveIntegerField("maximum (mg elemental Mg/day)")
    timing = models.CharField(max_length=200, blank=True)
    notes = MarkdownField(blank=True)
    exceeds_ul_acknowledged = models.BooleanField(
        "above the upper limit on purpose",
        default=False,
        help_text=(
            f"Tick to confirm a maximum above the adult Tolerable Upper Intake Level "
            f"for supplemental magnesium ({SUPPLEMENT_UL_MG} mg/day), e.g. for "
            "treatment under medical supervision. Say why in the notes."
        ),
    )
    position = models.PositiveSmallIntegerField(default=0)
    citations = models.ManyToManyField(Citation, blank=True, related_name="doses")

    history = MonographHistory(m2m_fields=[citations])

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minimum_mg__lte=models.F("maximum_mg")),
                name="dose_minimum_not_above_maximum",
            ),
        ]

    def __str__(self):
        return f"{self.form}: {self.population}, {self.minimum_mg}–{self.maximum_mg} mg/day"

    def get_absolute_url(self):
        return f"{self.form.get_absolute_url()}#dosing"

    def clean(self):
        super().clean()
        if (
            self.minimum_mg is not None
            and self.maximum_mg is not None
            and self.minimum_mg > self.maximum_mg
        ):
            raise ValidationError(
                {"minimum_mg": "The minimum dose is above the maximum dose."}
            )
        if self.exceeds_ul and not self.exceeds_ul_acknowledged:
            raise ValidationError(
                {
                    "exceeds_ul_acknowledged": (
                        f"{self.maximum_mg} mg/day is above the {SUPPLEMENT_UL_MG} mg/day "
                        "Tolerable Upper Intake Level for supplemental magnesium. Tick "
                        "the box to confirm it is intended, and say why in the notes."
                    )
                }
            )

    @property
    def exceeds_ul(self):
        return self.maximum_mg is not None and self.maximum_mg > SUPPLEMENT_UL_MG


class Interaction(models.Model):
    class Significance(models.TextChoices):
        MAJOR = "major", "Major: do not combine"
        MODERATE = "moderate", "Moderate: use cautiously or avoid"
        MINOR = "minor", "Minor: be aware"

    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="interactions"
    )
    drug_class = models.CharField(
        max_length=200, help_text="e.g. 'Tetracycline antibiotics'."
    )
    examples = models.CharField(
        max_length=300, blank=True, help_text="e.g. 'doxycycline, minocycline'."
    )
    significance = models.CharField(max_length=20, choices=Significance)
    mechanism = models.TextField(help_text="What happens when they are combined.")
    management = models.TextField(
        help_text="What to do, e.g. 'take the antibiotic 2 h before or 4–6 h after'."
    )
    position = models.PositiveSmallIntegerField(default=0)
    citations = models.ManyToManyField(
        Citation, blank=True, related_name="interactions"
    )

    history = MonographHistory(m2m_fields=[citations])

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.form}: {self.drug_class}"

    def get_absolute_url(self):
        return f"{self.form.get_absolute_url()}#interactions"


class Precaution(models.Model):
    class Kind(models.TextChoices):
        PRECAUTION = "precaution", "Precaution"
        CONTRAINDICATION = "contraindication", "Contraindication"

    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="precautions"
    )
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.PRECAUTION)
    label = models.CharField(max_length=200, help_text="e.g. 'Kidney disease'.")
    text = MarkdownField()
    position = models.PositiveSmallIntegerField(default=0)
    citations = models.ManyToManyField(Citation, blank=True, related_name="precautions")

    history = MonographHistory(m2m_fields=[citations])

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.form}: {self.label}"

    def get_absolute_url(self):
        return f"{self.form.get_absolute_url()}#precautions"


class FAQ(models.Model):
    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="faqs"
    )
    question = models.CharField(max_length=300)
    answer = MarkdownField()
    position = models.PositiveSmallIntegerField(default=0)

    history = MonographHistory()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "FAQ"
        verbose_name_plural = "FAQs"

    def __str__(self):
        return self.question

    def get_absolute_url(self):
        return f"{self.form.get_absolute_url()}#faqs"

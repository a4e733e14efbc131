"""The studies behind a use of a form: one row per outcome a study reports."""

from django.core.exceptions import ValidationError
from django.db import models

from monographs.history import MonographHistory
from monographs.reference import SALT_CHOICES, SALTS_BY_KEY

from .citations import Citation
from .entries import Evidence
from .fields import MarkdownField
from .forms import MagnesiumForm


class Study(models.Model):
    """One study's finding for one outcome, under one use of a form.

    A study reporting two outcomes (sleep onset latency and total sleep
    time, say) is two rows. Whether it counts as evidence for this form or
    for magnesium in general is derived from ``salt`` (see
    monographs.findings), never typed.
    """

    class Design(models.TextChoices):
        RCT = "rct", "Randomized controlled trial"
        CROSSOVER = "crossover", "Randomized crossover trial"
        NON_RANDOMIZED = "non-randomized", "Non-randomized controlled study"
        COHORT = "cohort", "Cohort study"
        CASE_CONTROL = "case-control", "Case-control study"
        CASE_SERIES = "case-series", "Case series"
        SYSTEMATIC_REVIEW = "systematic-review", "Systematic review"
        META_ANALYSIS = "meta-analysis", "Systematic review with meta-analysis"

    REVIEWS = (Design.SYSTEMATIC_REVIEW, Design.META_ANALYSIS)

    class BaselineStatus(models.TextChoices):
        NOT_REPORTED = "", "Not reported"
        LOW = "low", "Low magnesium"
        NORMAL = "normal", "Normal magnesium"
        MIXED = "mixed", "Low and normal"

    class Result(models.TextChoices):
        IMPROVED = "improved", "Improved"
        NO_DIFFERENCE = "no-difference", "No clear difference"
        WORSENED = "worsened", "Worsened"
        MIXED = "mixed", "Mixed"

    class RiskOfBias(models.TextChoices):
        NOT_RATED = "", "Not rated by mgref"
        LOW = "low", "Low"
        SOME_CONCERNS = "some-concerns", "Some concerns"
        HIGH = "high", "High"

    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="studies"
    )
    evidence = models.ForeignKey(
        Evidence,
        on_delete=models.CASCADE,
        related_name="studies",
        verbose_name="use",
        help_text="The use of this form the study is evidence about. Save a new use first.",
    )
    name = models.CharField(
        "study",
        max_length=100,
        help_text="How readers refer to it, e.g. 'Mah 2021'.",
    )
    design = models.CharField(max_length=30, choices=Design)
    participants = models.PositiveIntegerField(
        "participants (n)",
        null=True,
        blank=True,
        help_text="For a review, the participants of the trials it pooled.",
    )
    population = models.CharField(
        max_length=200, blank=True, help_text="e.g. 'Older adults with insomnia'."
    )
    baseline_status = models.CharField(
        "baseline magnesium status",
        max_length=10,
        choices=BaselineStatus,
        blank=True,
        default=BaselineStatus.NOT_REPORTED,
    )
    salt = models.CharField(
        "salt studied",
        max_length=20,
        choices=SALT_CHOICES,
        help_text=(
            "Only a study of this form's own salt counts as evidence for the form; "
            "any other salt, or magnesium unspecified, is indirect evidence."
        ),
    )
    hydrate = models.CharField(
        max_length=30,
        blank=True,
        help_text="Where the study names one: one of the salt's forms in the reference table.",
    )
    salt_detail = models.CharField(
        max_length=200,
        blank=True,
        help_text="e.g. 'most included trials used magnesium oxide'.",
    )
    elemental_mg_per_day = models.PositiveIntegerField(
        "elemental magnesium (mg/day)",
        null=True,
        blank=True,
        help_text="Only where the study states elemental magnesium.",
    )
    duration = models.CharField(
        max_length=100, blank=True, help_text="e.g. '8 weeks' or 'single dose'."
    )
    comparator = models.CharField(
        max_length=200, blank=True, help_text="e.g. 'placebo' or 'magnesium oxide'."
    )
    outcome = models.CharField(
        max_length=200, help_text="What was measured, e.g. 'sleep onset latency'."
    )
    result = models.CharField("direction of the result", max_length=20, choices=Result)
    studies_included = models.PositiveSmallIntegerField(
        "studies included",
        null=True,
        blank=True,
        help_text="Reviews only: the studies of this outcome the review included.",
    )
    studies_improved = models.PositiveSmallIntegerField(
        "of which improved",
        null=True,
        blank=True,
        help_text="Reviews only, as the review reports it: e.g. 5 (of 8).",
    )
    effect_estimate = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="As reported, e.g. -17.36. A review's is its pooled estimate.",
    )
    ci_lower = models.DecimalField(
        "95% CI, lower", max_digits=10, decimal_places=2, null=True, blank=True
    )
    ci_upper = models.DecimalField(
        "95% CI, upper", max_digits=10, decimal_places=2, null=True, blank=True
    )
    effect_unit = models.CharField(
        max_length=50,
        blank=True,
        help_text="e.g. 'minutes (mean difference)'. Required with an estimate.",
    )
    risk_of_bias = models.CharField(
        max_length=20, choices=RiskOfBias, blank=True, default=RiskOfBias.NOT_RATED
    )
    risk_of_bias_note = models.CharField(
        max_length=300,
        blank=True,
        help_text="e.g. the review's own assessment of its trials.",
    )
    notes = MarkdownField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    citations = models.ManyToManyField(
        Citation,
        blank=True,
        related_name="studies",
        help_text="The paper reporting the study.",
    )

    history = MonographHistory(m2m_fields=[citations])

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "study"
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ci_lower__isnull=True, ci_upper__isnull=True)
                | models.Q(
                    ci_lower__isnull=False,
                    ci_upper__isnull=False,
                    effect_estimate__isnull=False,
                    ci_lower__lte=models.F("effect_estimate"),
                    ci_upper__gte=models.F("effect_estimate"),
                ),
                name="study_ci_brackets_estimate",
            ),
            models.CheckConstraint(
                condition=models.Q(effect_estimate__isnull=True)
                | ~models.Q(effect_unit=""),
                name="study_estimate_has_unit",
            ),
            models.CheckConstraint(
                condition=models.Q(studies_included__isnull=True)
                | models.Q(design__in=["systematic-review", "meta-analysis"]),
                name="study_included_only_for_reviews",
            ),
            models.CheckConstraint(
                condition=models.Q(studies_improved__isnull=True)
                | models.Q(
                    studies_included__isnull=False,
                    studies_improved__lte=models.F("studies_included"),
                ),
                name="study_improved_within_included",
            ),
        ]

    def __str__(self):
        return f"{self.name}: {self.outcome}"

    def get_absolute_url(self):
        return self.evidence.get_absolute_url()

    def clean(self):
        super().clean()
        errors = {}
        if (
            self.evidence_id is not None
            and self.form_id is not None
            and self.evidence.form_id != self.form_id
        ):
            errors["evidence"] = "Choose a use of this monograph's own form."
        if (self.ci_lower is None) != (self.ci_upper is None):
            errors["ci_upper"] = "Give both ends of the 95% CI, or neither."
        elif self.ci_lower is not None:
            if self.effect_estimate is None:
                errors["effect_estimate"] = "A confidence interval needs its estimate."
            elif not self.ci_lower <= self.effect_estimate <= self.ci_upper:
                errors["ci_lower"] = (
                    f"The interval {self.ci_lower} to {self.ci_upper} does not "
                    f"contain the estimate {self.effect_estimate}."
                )
        if self.effect_estimate is not None and not self.effect_unit.strip():
            errors["effect_unit"] = "Say what the estimate measures, e.g. 'minutes'."
        if self.studies_included is not None and self.design not in self.REVIEWS:
            errors["studies_included"] = "Only a review includes other studies."
        if self.studies_improved is not None:
            if self.studies_included is None:
                errors["studies_improved"] = "Give the studies included too."
            elif self.studies_improved > self.studies_included:
                errors["studies_improved"] = (
                    f"{self.studies_improved} of {self.studies_included}: more "
                    "studies improved than were included."
                )
        if self.hydrate:
            salt = SALTS_BY_KEY.get(self.salt)
            if salt is None or salt.hydrate(self.hydrate) is None:
                known = ", ".join(h.key for h in salt.hydrates) if salt else "none"
                errors["hydrate"] = (
                    f"Not a form of this salt in the reference table (known: {known})."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def is_review(self):
        return self.design in self.REVIEWS

    @property
    def pooled(self):
        """Whether the row gives a meta-analysis's pooled estimate."""
        return (
            self.design == self.Design.META_ANALYSIS
            and self.effect_estimate is not None
        )

    @property
    def salt_name(self):
        label = dict(SALT_CHOICES).get(self.salt, self.salt)
        salt = SALTS_BY_KEY.get(self.salt)
        hydrate = salt.hydrate(self.hydrate) if salt and self.hydrate else None
        return f"{label}, {hydrate.label}" if hydrate else label

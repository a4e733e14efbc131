"""The rows of a monograph: evidence, side effects, doses, interactions…"""

from django.core.exceptions import ValidationError
from django.db import models

from monographs.history import MonographHistory
from monographs.reference import (
    CHILDBEARING_AGE_BANDS,
    SUPPLEMENT_UL_MG,
    UPPER_LIMIT_MG,
    AgeBand,
)

from .citations import Citation
from .fields import MarkdownField
from .forms import MagnesiumForm
from .topics import Indication, SideEffect


class Evidence(models.Model):
    """What the studies say about one form for one use, and mgref's GRADE
    rating of that evidence.

    The tally of studies and whether they used this form are not typed: they
    are computed from the use's study rows (monographs.findings).
    """

    class Direction(models.TextChoices):
        BENEFIT = "benefit", "Improves"
        MIXED = "mixed", "Mixed results"
        NO_EFFECT = "no-effect", "Little or no difference"
        HARM = "harm", "Worsens"

    class Certainty(models.TextChoices):
        HIGH = "high", "High"
        MODERATE = "moderate", "Moderate"
        LOW = "low", "Low"
        VERY_LOW = "very-low", "Very low"

    class Downgrade(models.IntegerChoices):
        NONE = 0, "Not rated down"
        SERIOUS = 1, "Serious: rated down one level"
        VERY_SERIOUS = 2, "Very serious: rated down two levels"

    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="evidence"
    )
    indication = models.ForeignKey(
        Indication, on_delete=models.PROTECT, related_name="evidence"
    )
    outcome = models.CharField(
        max_length=200,
        blank=True,
        help_text=(
            "The outcome the effect and rating are about, e.g. 'sleep onset "
            "latency'. GRADE rates the certainty of one outcome at a time."
        ),
    )
    direction = models.CharField(
        max_length=20,
        choices=Direction,
        help_text="Readers see it in GRADE's words for the certainty: 'may improve'…",
    )
    certainty = models.CharField(
        "GRADE certainty",
        max_length=20,
        choices=Certainty,
        help_text=(
            "mgref's own rating: start at High for randomized trials (Low for "
            "observational studies) and rate down for each domain below."
        ),
    )
    risk_of_bias = models.PositiveSmallIntegerField(
        choices=Downgrade, default=Downgrade.NONE
    )
    risk_of_bias_reason = models.CharField(max_length=300, blank=True)
    inconsistency = models.PositiveSmallIntegerField(
        choices=Downgrade, default=Downgrade.NONE
    )
    inconsistency_reason = models.CharField(max_length=300, blank=True)
    indirectness = models.PositiveSmallIntegerField(
        choices=Downgrade,
        default=Downgrade.NONE,
        help_text="E.g. trials of magnesium oxide used as evidence for glycinate.",
    )
    indirectness_reason = models.CharField(max_length=300, blank=True)
    imprecision = models.PositiveSmallIntegerField(
        choices=Downgrade, default=Downgrade.NONE
    )
    imprecision_reason = models.CharField(max_length=300, blank=True)
    publication_bias = models.PositiveSmallIntegerField(
        choices=Downgrade, default=Downgrade.NONE
    )
    publication_bias_reason = models.CharField(max_length=300, blank=True)
    rated_by = models.CharField(
        "certainty rated by",
        max_length=150,
        blank=True,
        help_text="The rater's public name (never a login name). Empty: not yet attributed.",
    )
    rated_on = models.DateField("certainty rated on", null=True, blank=True)
    summary = MarkdownField(blank=True)
    citations = models.ManyToManyField(Citation, blank=True, related_name="evidence")

    history = MonographHistory(m2m_fields=[citations])

    # (domain field, its reason field), in GRADE's order.
    DOMAINS = (
        ("risk_of_bias", "risk_of_bias_reason"),
        ("inconsistency", "inconsistency_reason"),
        ("indirectness", "indirectness_reason"),
        ("imprecision", "imprecision_reason"),
        ("publication_bias", "publication_bias_reason"),
    )

    class Meta:
        ordering = ["indication__name"]
        verbose_name_plural = "evidence"
        constraints = [
            models.UniqueConstraint(
                fields=["form", "indication"], name="evidence_form_indication_unique"
            ),
            *(
                models.CheckConstraint(
                    condition=models.Q(**{domain: 0}) | ~models.Q(**{reason: ""}),
                    name=f"evidence_{domain}_has_reason",
                )
                for domain, reason in (
                    ("risk_of_bias", "risk_of_bias_reason"),
                    ("inconsistency", "inconsistency_reason"),
                    ("indirectness", "indirectness_reason"),
                    ("imprecision", "imprecision_reason"),
                    ("publication_bias", "publication_bias_reason"),
                )
            ),
            models.CheckConstraint(
                condition=models.Q(rated_by="") | models.Q(rated_on__isnull=False),
                name="evidence_rater_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.form}: {self.indication}"

    def get_absolute_url(self):
        return f"{self.form.get_absolute_url()}#evidence-{self.indication.slug}"

    def clean(self):
        super().clean()
        errors = {}
        for domain, reason in self.DOMAINS:
            if getattr(self, domain) and not getattr(self, reason).strip():
                label = self._meta.get_field(domain).verbose_name
                errors[reason] = f"Say why the evidence is rated down for {label}."
        if self.rated_by and self.rated_on is None:
            errors["rated_on"] = "Give the date of the rating with the rater's name."
        levels = list(self.Certainty.values)
        if self.certainty in levels:
            lowest_start = 0  # High: randomized trials
            allowed = min(lowest_start + self.levels_down, len(levels) - 1)
            if levels.index(self.certainty) < allowed:
                errors["certainty"] = (
                    f"Rated down {self.levels_down} level(s) from High, the "
                    f"certainty can be at most {self.Certainty(levels[allowed]).label}."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def levels_down(self):
        return sum(getattr(self, domain) or 0 for domain, _ in self.DOMAINS)

    @property
    def downgrades(self):
        """[(domain label, levels, reason)] of the domains rated down."""
        return [
            (
                self._meta.get_field(domain).verbose_name,
                getattr(self, domain),
                getattr(self, reason),
            )
            for domain, reason in self.DOMAINS
            if getattr(self, domain)
        ]


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
    """Dosing guidance, always in milligrams of elemental magnesium per day,
    for one population: an age band, and pregnancy or lactation where it
    applies."""

    AgeBand = AgeBand

    class LifeStage(models.TextChoices):
        NONE = "", "Not pregnant or breastfeeding"
        PREGNANCY = "pregnancy", "Pregnancy"
        LACTATION = "lactation", "Breastfeeding"

    class Route(models.TextChoices):
        ORAL = "oral", "By mouth"
        INTRAVENOUS = "intravenous", "Intravenous"
        INTRAMUSCULAR = "intramuscular", "Intramuscular"

    form = models.ForeignKey(
        MagnesiumForm, on_delete=models.CASCADE, related_name="doses"
    )
    age_band = models.CharField(
        max_length=10,
        choices=AgeBand,
        default=AgeBand.ADULTS,
        help_text=(
            "Sets the upper limit the dose is checked against: choose the band "
            "for a dose for children."
        ),
    )
    life_stage = models.CharField(
        "pregnancy or breastfeeding",
        max_length=20,
        choices=LifeStage,
        blank=True,
        default=LifeStage.NONE,
        help_text="Only from 14 years.",
    )
    route = models.CharField(max_length=20, choices=Route, default=Route.ORAL)
    population = models.CharField(
        max_length=200,
        help_text="Who, in words, e.g. 'Adults with short bowel syndrome'.",
    )
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
            "Tick to confirm a maximum above the Tolerable Upper Intake Level for "
            "supplemental magnesium for the age band (1–3 years: 65 mg/day, 4–8 "
            f"years: 110 mg/day, 9 years and older: {SUPPLEMENT_UL_MG} mg/day; none "
            "is established for infants), e.g. for treatment under medical "
            "supervision. Say why in the notes."
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
            models.CheckConstraint(
                condition=models.Q(life_stage="")
                | models.Q(age_band__in=CHILDBEARING_AGE_BANDS),
                name="dose_life_stage_from_14_years",
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
        if self.life_stage and self.age_band not in CHILDBEARING_AGE_BANDS:
            raise ValidationError(
                {
                    "life_stage": "Pregnancy and breastfeeding are recorded from 14 "
                    "years: choose an age band of 14–18 years or adults."
                }
            )
        if self.exceeds_ul and not self.exceeds_ul_acknowledged:
            limit = self.upper_limit_mg
            band = AgeBand(self.age_band).label
            raise ValidationError(
                {
                    "exceeds_ul_acknowledged": (
                        f"No Tolerable Upper Intake Level is established for {band}: "
                        "tick the box to confirm a supplemental dose is intended, and "
                        "say why in the notes."
                        if limit is None
                        else f"{self.maximum_mg} mg/day is above the {limit} mg/day "
                        f"Tolerable Upper Intake Level for supplemental magnesium "
                        f"({band}). Tick the box to confirm it is intended, and say "
                        "why in the notes."
                    )
                }
            )

    @property
    def upper_limit_mg(self):
        """The age band's UL in mg/day; None where none is established."""
        return UPPER_LIMIT_MG.get(self.age_band, SUPPLEMENT_UL_MG)

    @property
    def exceeds_ul(self):
        if self.maximum_mg is None:
            return False
        if self.age_band == AgeBand.INFANTS:
            return True
        return self.maximum_mg > self.upper_limit_mg


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
    # Markdown, like every prose field: rendered by the one renderer, so a
    # citation marker is numbered, never shown raw.
    mechanism = MarkdownField(help_text="What happens when they are combined.")
    management = MarkdownField(
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

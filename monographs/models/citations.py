import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

from monographs.history import ContentHistory
from monographs.reversing import cached_reverse

FIRST_PLAUSIBLE_YEAR = 1800
DOI_PREFIX_RE = re.compile(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)

# Imports mark sources they could not identify as [@todo-ref-N].
UNRESOLVED_KEY_PREFIX = "todo-"
validate_key = RegexValidator(
    rf"^(?!{UNRESOLVED_KEY_PREFIX})[a-z0-9][a-z0-9_-]*$",
    "Use lowercase letters, digits, hyphens and underscores, e.g. schuette1994. "
    f"Keys starting with '{UNRESOLVED_KEY_PREFIX}' are kept for unresolved references.",
)
validate_pmid = RegexValidator(
    r"^[1-9][0-9]{0,8}$", "A PMID is digits only, for example 7815675."
)
validate_pmcid = RegexValidator(
    r"^PMC[0-9]{1,9}$", "A PMCID is 'PMC' followed by digits, for example PMC7397051."
)
validate_doi = RegexValidator(
    r"^10\.[0-9]{4,9}(\.[0-9]+)*/\S+$",
    "A DOI looks like 10.<registrant>/<suffix>, for example "
    "10.1177/0148607194018005430, without 'https://doi.org/'.",
)


class Citation(models.Model):
    class PublicationType(models.TextChoices):
        JOURNAL_ARTICLE = "journal-article", "Journal article"
        SYSTEMATIC_REVIEW = "systematic-review", "Systematic review"
        NARRATIVE_REVIEW = "narrative-review", "Narrative review"
        RANDOMIZED_TRIAL = "randomized-trial", "Randomized trial"
        CROSSOVER_TRIAL = "crossover-trial", "Randomized crossover trial"
        COMPARATIVE_STUDY = "comparative-study", "Comparative study"
        PHYSIOLOGICAL_STUDY = "physiological-study", "Physiological study"
        ANIMAL_STUDY = "animal-study", "Animal study"
        GUIDELINE = "guideline", "Guideline or report"
        WEB_PAGE = "web-page", "Web page or fact sheet"

    key = models.SlugField(
        max_length=60,
        db_index=False,
        validators=[validate_key],
        help_text=(
            "Short key that Markdown text cites as [@key], e.g. schuette1994. "
            "Lowercase letters, digits and hyphens."
        ),
    )
    authors = models.TextField(
        blank=True,
        help_text=(
            "Vancouver style, comma-separated: 'Schuette SA, Lashner BA'. "
            "End with 'et al.' when only the first authors were checked."
        ),
    )
    group_author = models.CharField(
        max_length=300,
        blank=True,
        help_text="An organization as author, e.g. 'NIH Office of Dietary Supplements'.",
    )
    title = models.TextField(
        blank=True, help_text="Leave empty until checked against the source."
    )
    journal = models.CharField(
        max_length=300,
        blank=True,
        help_text="Abbreviated journal title as in PubMed, e.g. 'Am J Clin Nutr'. "
        "For a report, guideline or web page, fill Publisher instead.",
    )
    publisher = models.CharField(
        "publisher or institution",
        max_length=300,
        blank=True,
        help_text=(
            "For a report, guideline or web page: who published it, e.g. "
            "'National Academies Press'. Exports give it as the publisher "
            "(RIS PB, BibTeX institution, CSL publisher). Leave empty for articles."
        ),
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    volume = models.CharField(max_length=30, blank=True)
    issue = models.CharField(max_length=30, blank=True)
    pages = models.CharField(
        max_length=30,
        blank=True,
        help_text="Page range or article number, e.g. 430-435.",
    )
    pmid = models.CharField(
        "PMID", max_length=10, blank=True, validators=[validate_pmid]
    )
    pmcid = models.CharField(
        "PMCID", max_length=15, blank=True, validators=[validate_pmcid]
    )
    doi = models.CharField("DOI", max_length=200, blank=True, validators=[validate_doi])
    url = models.URLField(
        "URL", blank=True, help_text="Only for sources without a PMID or DOI."
    )
    publication_type = models.CharField(
        max_length=30,
        choices=PublicationType,
        default=PublicationType.JOURNAL_ARTICLE,
    )
    note = models.TextField(
        blank=True,
        help_text="For editors, not shown to readers: what was checked and what is missing.",
    )

    history = ContentHistory()

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="citation_key_unique"),
            models.UniqueConstraint(
                fields=["pmid"],
                condition=~models.Q(pmid=""),
                name="citation_pmid_unique",
                violation_error_message="Another citation already has this PMID.",
            ),
            models.UniqueConstraint(
                Lower("doi"),
                condition=~models.Q(doi=""),
                name="citation_doi_unique",
                violation_error_message="Another citation already has this DOI.",
            ),
            models.CheckConstraint(
                condition=models.Q(year__isnull=True)
                | models.Q(year__gte=FIRST_PLAUSIBLE_YEAR, year__lte=2100),
                name="citation_year_plausible",
            ),
        ]

    def __str__(self):
        return self.key

    def get_absolute_url(self):
        return cached_reverse("monographs:citation-detail", (self.pk,))

    def clean_fields(self, exclude=None):
        # People paste DOIs as links; store the bare DOI the validator expects.
        self.doi = DOI_PREFIX_RE.sub("", self.doi.strip())
        super().clean_fields(exclude=exclude)

    def clean(self):
        super().clean()
        if self.year is not None:
            latest = datetime.date.today().year + 1
            if not FIRST_PLAUSIBLE_YEAR <= self.year <= latest:
                raise ValidationError(
                    {
                        "year": f"Enter a year between {FIRST_PLAUSIBLE_YEAR} and {latest}."
                    }
                )
        if not (self.title or self.pmid or self.pmcid or self.doi or self.url):
            raise ValidationError(
                "A citation needs at least a title, PMID, PMCID, DOI or URL to be findable."
            )

    @property
    def missing(self):
        """What readers and exports lack of this record: 'title', 'authors'."""
        gaps = []
        if not self.title.strip():
            gaps.append("title")
        if not (self.group_author.strip() or self.author_list):
            gaps.append("authors")
        return gaps

    @property
    def author_list(self):
        """Individual authors as written; 'et al.' is kept as the last item."""
        return [name.strip() for name in self.authors.split(",") if name.strip()]

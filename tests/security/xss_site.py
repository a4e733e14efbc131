"""
A site full of XSS payloads, written the two ways content gets in.

Through the admin: a reviewer (whose own name is a payload) posts the admin
forms as a browser would, with an edit summary, creating citations,
indications, side effects and one monograph with every kind of row, then
edits and approves it several times through the review page. A last edit
stays a draft awaiting review.

Through the importer: ``import_monographs --publish --as <reviewer>`` reads
two versions of a front-matter file (named with a payload, since the file
name becomes the edit summary) and publishes a second monograph.

Every Markdown and text field gets payloads. Unlimited fields get the whole
corpus. Short ones get shares of it, moved on in each round of edits, so that
over the published revisions every payload passes through every short field
of the admin's monograph (30-character citation fields: through one of the
three). The import has fewer rows, each version with other shares.
"""

import io
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.management import call_command
from django.test import Client

from monographs.models import (
    FAQ,
    Citation,
    Dose,
    Indication,
    MagnesiumForm,
    Revision,
    SideEffect,
)
from monographs.validators import BIDI_CONTROLS_RE
from tests import factories
from tests.browser_forms import form_data
from tests.security.xss_corpus import (
    CONTROL_CHARACTER_PAYLOADS,
    ONE_LINE,
    PAYLOADS,
    chunks,
    spread,
)

ADMIN = "/admin/monographs"
ADMIN_SLUG = "xss-admin-form"
CITATION_COUNT = 63  # enough for every 30-character share of the corpus
# The admin posts at most 1000 fields (DATA_UPLOAD_MAX_NUMBER_FIELDS), so the
# monograph keeps a dozen rows of each kind and moves them on to new payloads
# in each of ROUNDS approved edits of the whole change form.
ROWS = 13
SYNONYM_ROWS = 29
ROUNDS = 5
ROW_EDITS = 2  # approved edits of single rows, on their own admin pages
IMPORT_ROWS = 20  # rows of each kind in each imported version

# Markdown gets the corpus in three layouts: one payload a paragraph, all on
# one line, and as a list.
LAYOUTS = [
    "\n\n".join(PAYLOADS),
    " ".join(ONE_LINE),
    "\n".join(f"- {payload}" for payload in ONE_LINE),
]
# Raw C0 control characters go into long text only: XML (the feeds) cannot
# carry them, and a separate test covers names and edit summaries.
FULL_MARKDOWN = [
    f"{layout}\n\n{' '.join(CONTROL_CHARACTER_PAYLOADS)} [@xss-cite-00]"
    for layout in LAYOUTS
]
FORM_MARKDOWN_FIELDS = [
    "composition_note",
    "absorption_notes",
    "tolerability_notes",
    "summary",
    "usage",
    "mechanism",
    "dosage_notes",
    "precaution_notes",
    "disclaimer",
    "other_sections",
    "editor_notes",
]

SHORT_30 = chunks(ONE_LINE, 30)
# Names and edit summaries refuse characters that reorder text (a spoof, not
# markup: monographs.validators); every other field takes the whole corpus.
TYPED = [BIDI_CONTROLS_RE.sub("", payload) for payload in ONE_LINE]
SHORT_100 = chunks(TYPED, 100)
SHORT_200 = chunks(ONE_LINE, 200)
SHORT_300 = chunks(ONE_LINE, 300)
SUMMARIES = chunks(TYPED, 500)
URL_SAFE = [payload.replace(" ", "") for payload in ONE_LINE]
URLS = chunks(URL_SAFE, 200, separator="", prefix="https://example.com/?x=")

# First and last name of the reviewer: shown as author and approver.
REVIEWER_NAMES = (
    "<script>alert('xss-first-name')</script>",
    "\"><img src=x onerror=alert('xss-last-name')>",
)


def _rotate(values, index):
    return values[index % len(values)]


@dataclass
class XssSite:
    reviewer: object
    admin_form: object
    import_form: object
    published_numbers: dict = field(default_factory=dict)
    draft_numbers: dict = field(default_factory=dict)
    citations: list = field(default_factory=list)
    indications: list = field(default_factory=list)
    side_effects: list = field(default_factory=list)
    synonym_slugs: list = field(default_factory=list)
    import_output: str = ""

    @property
    def forms(self):
        return [self.admin_form, self.import_form]


def assert_saved(response, what):
    if response.status_code != 302:
        page = response.content.decode()
        errors = [
            " ".join(re.sub(r"<[^>]+>", " ", error).split())
            for error in re.findall(
                r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S
            )
        ]
        raise AssertionError(
            f"{what}: the admin refused the save ({response.status_code}): "
            f"{errors or page[:2000]}"
        )


def add_rows(data, prefix, rows):
    """Do what "Add another …" then typing does, for each of ``rows``."""
    template = f"{prefix}-__prefix__-"
    defaults = {
        name.removeprefix(template): value
        for name, value in data.items()
        if name.startswith(template)
    }
    start = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, values in enumerate(rows):
        index = start + offset
        for name, value in {**defaults, **values}.items():
            data[f"{prefix}-{index}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(start + len(rows))


class AdminWriter:
    """A reviewer at the admin, posting forms the way the browser does."""

    def __init__(self, reviewer):
        self.reviewer = reviewer
        self.client = Client()
        self.client.force_login(reviewer)
        # Each kind of text gets the shares of the corpus in turn.
        self.summaries = itertools.cycle(SUMMARIES)
        self.comments = itertools.cycle(SUMMARIES)
        self.content_summaries = itertools.cycle(SUMMARIES)
        self.change_form = None

    def summary(self):
        """An edit summary of the monograph: shown on public history pages."""
        return next(self.summaries)

    def comment(self):
        """A review comment: shown to staff."""
        return next(self.comments)

    def content_summary(self):
        """The reason for saving a citation or topic: kept in its history."""
        return next(self.content_summaries)

    def blank(self, model_name, form_id):
        response = self.client.get(f"{ADMIN}/{model_name}/add/")
        assert response.status_code == 200, response.status_code
        return form_data(response, form_id)

    def add_citations(self):
        blank = self.blank("citation", "citation_form")
        types = [choice for choice, _ in Citation.PublicationType.choices]
        titles = spread(ONE_LINE, CITATION_COUNT, " ")
        authors = spread(ONE_LINE, CITATION_COUNT, ", ")
        notes = spread(PAYLOADS, CITATION_COUNT)
        for index in range(CITATION_COUNT):
            data = {
                **blank,
                "key": f"xss-cite-{index:02d}",
                "publication_type": types[index % len(types)],
                "authors": authors[index],
                "group_author": _rotate(SHORT_300, index) if index % 3 == 0 else "",
                "title": titles[index],
                "journal": _rotate(SHORT_300, index + 7),
                "publisher": _rotate(SHORT_300, index + 11),
                "year": "2020",
                "volume": _rotate(SHORT_30, index),
                "issue": _rotate(SHORT_30, index + CITATION_COUNT),
                "pages": _rotate(SHORT_30, index + 2 * CITATION_COUNT),
                "url": _rotate(URLS, index),
                "note": notes[index],
                "edit_summary": self.content_summary(),
            }
            response = self.client.post(f"{ADMIN}/citation/add/", data)
            assert_saved(response, f"citation {index}")
        return list(Citation.objects.filter(key__startswith="xss-cite-"))

    def add_topics(self, model_name, model, names, slug_prefix):
        blank = self.blank(model_name, f"{model_name}_form")
        descriptions = spread(PAYLOADS, len(names))
        for index, name in enumerate(names):
            data = {
                **blank,
                "name": name,
                "slug": f"{slug_prefix}-{index}",
                "description": FULL_MARKDOWN[0] if index == 0 else descriptions[index],
                "edit_summary": self.content_summary(),
            }
            response = self.client.post(f"{ADMIN}/{model_name}/add/", data)
            assert_saved(response, f"{model_name} {index}")
        return list(model.objects.filter(slug__startswith=f"{slug_prefix}-"))

    def monograph_values(self, round_number):
        """The monograph's own fields in one round of edits."""
        values = {
            "name": f"Magnesium {SHORT_100[0]}"[:100],
            "slug": ADMIN_SLUG,
            "category": MagnesiumForm.Category.ORGANIC_SALT,
            "formula_basis": _rotate(SHORT_100, round_number + 1),
            "elemental_mg_percent": "12.5",
            "edit_summary": self.summary(),
        }
        # Each field keeps its layout of the corpus. In the summary and usage a
        # share changes with every round, so that each diff holds payloads,
        # removed and added. (More would only make the diffs slow to compute.)
        share = spread(PAYLOADS, ROUNDS)[round_number]
        for index, name in enumerate(FORM_MARKDOWN_FIELDS):
            values[name] = _rotate(FULL_MARKDOWN, index)
            if name in {"summary", "usage"}:
                values[name] += f"\n\n{share}"
        return values

    def row_values(self, round_number, citations, indications, side_effects):
        """{inline prefix: [values of each row]} in one round of edits.

        Each round moves every short field on to the next shares of the
        corpus, so that over the rounds every payload passes through it.
        """
        cited = [str(citation.pk) for citation in citations]
        first = round_number * ROWS
        texts = spread(PAYLOADS, ROWS * ROUNDS)

        def text(index, shift=0):
            return _rotate(texts, first + index + shift * ROWS)

        return {
            "synonyms": [
                {
                    "name": _rotate(SHORT_100, 2 + round_number * SYNONYM_ROWS + index),
                    "slug": f"xss-synonym-{index}",
                }
                for index in range(SYNONYM_ROWS)
            ],
            "evidence": [
                {
                    "indication": str(_rotate(indications, first + index).pk),
                    "direction": "benefit",
                    "certainty": "low",
                    "outcome": _rotate(SHORT_200, first + index + 5),
                    "risk_of_bias_reason": _rotate(SHORT_300, first + index + 1),
                    "inconsistency_reason": _rotate(SHORT_300, first + index + 2),
                    "indirectness_reason": _rotate(SHORT_300, first + index + 3),
                    "imprecision_reason": _rotate(SHORT_300, first + index + 4),
                    "publication_bias_reason": _rotate(SHORT_300, first + index + 5),
                    "rated_by": _rotate(SHORT_100, first + index + 3),
                    "rated_on": "2026-11-29",
                    "summary": f"{text(index)} [@xss-cite-{index:02d}]",
                    "citations": _rotate(cited, first + index),
                }
                for index in range(ROWS)
            ],
            "side_effects": [
                {
                    "side_effect": str(_rotate(side_effects, first + index).pk),
                    "frequency": "common" if index % 2 else "rare",
                    "seriousness": "mild" if index % 3 else "seek-attention",
                    "notes": text(index, 1),
                    "citations": _rotate(cited, first + index + 1),
                }
                for index in range(ROWS)
            ],
            "doses": [
                {
                    "population": _rotate(SHORT_200, first + index),
                    "purpose": _rotate(SHORT_200, first + index + 1),
                    "minimum_mg": "100",
                    "maximum_mg": "300",
                    "timing": _rotate(SHORT_200, first + index + 2),
                    "notes": text(index, 2),
                    "citations": _rotate(cited, first + index + 2),
                    "position": str(index),
                }
                for index in range(ROWS)
            ],
            "interactions": [
                {
                    "drug_class": _rotate(SHORT_200, first + index + 3),
                    "examples": _rotate(SHORT_300, first + index),
                    "significance": ["major", "moderate", "minor"][index % 3],
                    "mechanism": text(index, 3),
                    "management": text(index, 4),
                    "citations": _rotate(cited, first + index + 3),
                    "position": str(index),
                }
                for index in range(ROWS)
            ],
            "precautions": [
                {
                    "label": _rotate(SHORT_200, first + index + 4),
                    "kind": "precaution" if index % 2 else "contraindication",
                    "position": str(index),
                    "text": text(index, 5),
                    "citations": _rotate(cited, first + index + 4),
                }
                for index in range(ROWS)
            ],
            "faqs": [
                {
                    "question": _rotate(SHORT_300, first + index + 1),
                    "position": str(index),
                    "answer": text(index, 6),
                }
                for index in range(ROWS)
            ],
        }

    def add_monograph(self, citations, indications, side_effects):
        data = self.blank("magnesiumform", "magnesiumform_form")
        data.update(self.monograph_values(0))
        for prefix, rows in self.row_values(
            0, citations, indications, side_effects
        ).items():
            add_rows(data, prefix, rows)
        response = self.client.post(f"{ADMIN}/magnesiumform/add/", data)
        assert_saved(response, "monograph")
        return MagnesiumForm.objects.get(slug=ADMIN_SLUG)

    def edit_monograph(self, form, round_number, citations, indications, side_effects):
        """Every field and row of the change form moved on to new payloads.

        The change form is read once, as a browser would show it after the
        first save; later rounds post that form again with new values.
        """
        url = f"{ADMIN}/magnesiumform/{form.pk}/change/"
        if self.change_form is None:
            response = self.client.get(url)
            assert response.status_code == 200, response.status_code
            self.change_form = form_data(response, "magnesiumform_form")
        data = self.change_form
        data["base_revision"] = str(Revision.objects.latest_number(form.pk))
        data.update(self.monograph_values(round_number))
        for prefix, rows in self.row_values(
            round_number, citations, indications, side_effects
        ).items():
            for index, values in enumerate(rows):
                for name, value in values.items():
                    # Inlines list synonyms by name: each keeps its address.
                    if name != "slug":
                        data[f"{prefix}-{index}-{name}"] = value
        assert_saved(self.client.post(url, data), f"edit round {round_number}")

    def approve(self, form, comment=None):
        number = Revision.objects.latest_number(form.pk)
        response = self.client.post(
            f"{ADMIN}/magnesiumform/{form.pk}/review/",
            {
                "decision": "approve",
                "revision": str(number),
                "comment": self.comment() if comment is None else comment,
            },
        )
        assert_saved(response, f"approval of revision {number}")
        assert MagnesiumForm.objects.get(pk=form.pk).published_revision.number == (
            number
        ), f"revision {number} was not published"
        return number

    def request_changes(self, form):
        number = Revision.objects.latest_number(form.pk)
        response = self.client.post(
            f"{ADMIN}/magnesiumform/{form.pk}/review/",
            {
                "decision": "request-changes",
                "revision": str(number),
                "comment": self.comment(),
            },
        )
        assert_saved(response, f"request for changes on revision {number}")

    def submit(self, form):
        response = self.client.post(
            f"{ADMIN}/magnesiumform/{form.pk}/submit/", {"comment": self.comment()}
        )
        assert response.status_code == 302, response.status_code
        assert MagnesiumForm.objects.get(pk=form.pk).status == "in-review"

    def edit_row(self, model_name, row, values):
        """Save one row on its own admin page: a revision of its monograph."""
        url = f"{ADMIN}/{model_name}/{row.pk}/change/"
        response = self.client.get(url)
        assert response.status_code == 200, response.status_code
        data = form_data(response, f"{model_name}_form")
        data.update(values, edit_summary=self.summary())
        assert_saved(self.client.post(url, data), f"edit of {model_name} {row.pk}")


def front_matter_file(directory, name, version):
    """A monograph in the front-matter layout, every part of it a payload."""
    body_payloads = [
        payload
        for payload in PAYLOADS
        if not any(
            line.startswith(("#", "---")) or line.lstrip().startswith(("* ", "- "))
            for line in payload.split("\n")
        )
    ]
    # Version 2 changes a share of the summary and usage: a diff of payloads.
    share = spread(ONE_LINE, 2)[version - 1]
    body = "\n\n".join(body_payloads)
    inline = [
        payload
        for payload in ONE_LINE
        if "*" not in payload and not payload.lstrip().startswith(("#", "-", "+"))
    ]
    # Fewer rows than the admin's monograph, each version on other shares.
    count = IMPORT_ROWS
    first = (version - 1) * count
    texts = spread(ONE_LINE, 2 * count, " ")[first:]
    topic_names = chunks(ONE_LINE, 100, prefix="Imported outcome NNN: ")[:count]
    facts = {
        "title": f"Magnesium imported {SHORT_100[0]}"[:100],
        "layout": "minimal-medicine",
        "category": "inorganic",
        "elemental_mg_percent": "10.5",
        "formula_basis": _rotate(SHORT_100, version),
        "composition_note": LAYOUTS[0],
        "absorption_notes": LAYOUTS[1],
        "tolerability_notes": LAYOUTS[2],
        "synonyms": chunks(ONE_LINE, 100, prefix=f"Imported synonym {version}: ")[
            first : first + count
        ],
        "doses": [
            {
                "population": _rotate(SHORT_200, first + index),
                "purpose": _rotate(SHORT_200, first + index + 1),
                "minimum_mg": 100,
                "maximum_mg": 300,
                "timing": _rotate(SHORT_200, first + index + 2),
                "notes": texts[index],
            }
            for index in range(count)
        ],
        "interactions": [
            {
                "drug_class": _rotate(SHORT_200, first + index + 3),
                "examples": _rotate(SHORT_300, first + index),
                "significance": ["major", "moderate", "minor"][index % 3],
                "mechanism": texts[index],
                "management": _rotate(texts, index + version),
            }
            for index in range(count)
        ],
        "evidence": [
            {
                "indication": topic.replace("NNN", f"{index:03d}"),
                "direction": "mixed",
                "certainty": "very-low",
                "summary": _rotate(texts, index + version),
            }
            for index, topic in enumerate(topic_names)
        ],
        # Studies of the uses above, every text a payload.
        "studies": [
            {
                "evidence": topic.replace("NNN", f"{index:03d}"),
                "name": _rotate(SHORT_100, first + index),
                "design": "rct",
                "population": _rotate(SHORT_200, first + index + 1),
                "salt": "oxide",
                "salt_detail": _rotate(SHORT_200, first + index + 2),
                "duration": _rotate(SHORT_100, first + index + 3),
                "comparator": _rotate(SHORT_200, first + index + 3),
                "outcome": _rotate(SHORT_200, first + index + 4),
                "result": "improved",
                "effect_estimate": "1.5",
                "effect_unit": _rotate(SHORT_30, first + index),
                "risk_of_bias_note": _rotate(SHORT_300, first + index),
                "notes": _rotate(texts, index + version + 1),
            }
            for index, topic in enumerate(topic_names)
        ],
    }
    effect_names = chunks(inline, 100, prefix="Imported symptom NNN: ")[
        first : first + count
    ]
    effects = "\n".join(
        f"* {name.replace('NNN', f'{index:03d}')} ({_rotate(texts, index)})"
        for index, name in enumerate(effect_names)
    )
    labels = chunks([p for p in inline if ":" not in p], 150)[first : first + count]
    precautions = "\n".join(
        f"* **{label}:** {_rotate(texts, index + version)}"
        for index, label in enumerate(labels)
    )
    questions = chunks(inline, 250)[first : first + count]
    faqs = "\n".join(
        f"* **Q: {question}** A: {_rotate(texts, index + version)}"
        for index, question in enumerate(questions)
    )
    unknown = "\n\n".join(
        f"### Unknown {index} {heading}\n\n{_rotate(texts, index)}"
        for index, heading in enumerate(chunks(inline, 120)[:5])
    )
    generic = f"Generic {version}: {SHORT_100[version]}"[:100]
    text = (
        f"---\n{yaml.safe_dump(facts, allow_unicode=True, sort_keys=False)}---\n\n"
        f"# {facts['title']}\n\n{body}\n\n{share}\n\n"
        f"### Generic Name\n{generic}\n\n"
        f"### Usage\n{body}\n\n{share}\n\n"
        f"### Dosage\n{LAYOUTS[1]}\n\n"
        "### Side Effects\nCommon side effects are generally mild and include:\n\n"
        f"{effects}\n\n"
        f"### How it Works\n{LAYOUTS[2]}\n\n"
        f"### Precautions\n{' '.join(inline[:40])}\n\n{precautions}\n\n"
        f"### FAQs\n\n{faqs}\n\n{unknown}\n\n"
        f"**Disclaimer:** {body}\n"
    )
    path = Path(directory) / name
    path.write_text(text, encoding="utf-8")
    return path


IMPORT_FILE_NAMES = [
    "\"><img src=x onerror=alert('xss-file-name')>.md",
    "<svg onload=alert('xss-file-name-2')> {{ 7*7 }}.md",
]


def import_monograph(reviewer, directory):
    """Import and publish two versions of the payload monograph; return it."""
    output = []
    for version, name in enumerate(IMPORT_FILE_NAMES, start=1):
        path = front_matter_file(directory, name, version)
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            call_command(
                "import_monographs",
                str(path),
                "--publish",
                "--as",
                reviewer.username,
                stdout=stdout,
                stderr=stderr,
            )
        except SystemExit as error:
            raise AssertionError(
                f"import of version {version} failed ({error.code}):\n"
                f"{stdout.getvalue()}\n{stderr.getvalue()}"
            ) from None
        output.append(stdout.getvalue() + stderr.getvalue())
    title = f"Magnesium imported {SHORT_100[0]}"[:100]
    return MagnesiumForm.objects.get(name=title), "\n".join(output)


def build_xss_site(directory):
    """Write the whole payload site; return what the checks need to find it."""
    first, last = REVIEWER_NAMES
    reviewer = factories.ReviewerFactory(
        username="xss-reviewer", first_name=first, last_name=last
    )
    writer = AdminWriter(reviewer)
    citations = writer.add_citations()
    halves = SHORT_100[0::2], SHORT_100[1::2]
    indications = writer.add_topics(
        "indication", Indication, halves[0], "xss-indication"
    )
    side_effects = writer.add_topics(
        "sideeffect", SideEffect, halves[1], "xss-side-effect"
    )
    form = writer.add_monograph(citations, indications, side_effects)
    published = [writer.approve(form)]
    for round_number in range(1, ROUNDS):
        writer.edit_monograph(form, round_number, citations, indications, side_effects)
        published.append(writer.approve(form))
    faqs = list(FAQ.objects.filter(form=form).order_by("pk"))
    doses = list(Dose.objects.filter(form=form).order_by("pk"))
    for edit in range(ROW_EDITS):
        if edit % 2:
            writer.edit_row(
                "faq", _rotate(faqs, edit), {"answer": _rotate(FULL_MARKDOWN, edit)}
            )
        else:
            writer.edit_row(
                "dose", _rotate(doses, edit), {"notes": _rotate(FULL_MARKDOWN, edit)}
            )
        published.append(writer.approve(form))
    # Left unpublished: a draft sent back, edited again and awaiting review.
    writer.edit_row("faq", faqs[-1], {"answer": FULL_MARKDOWN[1]})
    writer.request_changes(form)
    writer.edit_row("dose", doses[-1], {"notes": FULL_MARKDOWN[2]})
    writer.submit(form)
    drafts = [
        number
        for number in range(1, Revision.objects.latest_number(form.pk) + 1)
        if number not in published
    ]

    imported, output = import_monograph(reviewer, directory)
    import_numbers = list(
        Revision.objects.for_form(imported.pk)
        .published()
        .order_by("number")
        .values_list("number", flat=True)
    )
    form = MagnesiumForm.objects.get(pk=form.pk)
    return XssSite(
        reviewer=reviewer,
        admin_form=form,
        import_form=imported,
        published_numbers={form.pk: published, imported.pk: import_numbers},
        draft_numbers={form.pk: drafts, imported.pk: []},
        citations=citations,
        indications=list(Indication.objects.all()),
        side_effects=list(SideEffect.objects.all()),
        synonym_slugs=list(
            form.synonyms.values_list("slug", flat=True).order_by("slug")[:3]
        ),
        import_output=output,
    )

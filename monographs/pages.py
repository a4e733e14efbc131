"""
A monograph laid out for reading: its sections rendered in page order, so
that citations are numbered in order of first appearance.
"""

import html
import re
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.safestring import SafeString

from monographs.findings import use_findings
from monographs.markdown import (
    CitationNumbering,
    citation_keys,
    render_markdown,
    strip_tags,
)
from monographs.models import FormSideEffect, Interaction
from monographs.rendering import Recorder, Replay, stored_recording

SIGNIFICANCE_ORDER = list(Interaction.Significance.values)


# Citation markers as the renderer writes them, for text without them.
CITATION_MARKS = re.compile(
    r'<sup class="citation">.*?</sup>|<span class="citation-missing"[^>]*>.*?</span>',
    re.DOTALL,
)


# The page's sections that editors write, in page order, with the words the
# page uses to say that a monograph does not cover one yet.
COVERED_SECTIONS = (
    ("uses", "Uses and evidence"),
    ("dosing", "Dosing"),
    ("side_effects", "Side effects"),
    ("interactions", "Interactions with medicines"),
    ("precautions", "Precautions"),
    ("how_it_works", "How it works"),
    ("faqs", "Frequently asked questions"),
)


@dataclass
class RenderedUse:
    """A use of the form as the page shows it: its rating, with the summary
    of findings and the studies behind it."""

    item: object  # the evidence row's RenderedRow
    findings: object  # monographs.findings.UseFindings
    studies: list  # RenderedRow of each study

    @property
    def row(self):
        return self.item.row


@dataclass
class RenderedRow:
    row: object
    html: str = ""
    extra_citations: list = field(default_factory=list)
    # A row's other Markdown fields, rendered: {"mechanism": html}.
    more: dict = field(default_factory=dict)

    @property
    def refs(self):
        """The attached citations the text does not mark, as superscript links."""
        if not self.extra_citations:
            return ""
        # f-strings, not format_html_join: this runs for most rows of every
        # page, and Django's helpers cost ten times as much per link.
        links = ",".join(
            f'<a href="#ref-{int(number)}" id="{html.escape(anchor)}">{int(number)}</a>'
            for number, anchor, _ in self.extra_citations
        )
        return SafeString(f'<sup class="citation">{links}</sup>')


class MonographPage:
    """Everything the monograph template shows, rendered once from a document.

    Text is taken from the revision's recorded rendering where it holds (see
    ``monographs.rendering``), else rendered. With ``record``, the page
    renders everything and keeps a recording for ``recording()``.
    """

    def __init__(self, snapshot, *, record=False):
        self.snapshot = snapshot
        self.form = snapshot.form
        self.revision = snapshot.revision
        self.synonyms = snapshot.synonyms
        self.evidence = snapshot.evidence
        self.side_effects = snapshot.side_effects
        self.doses = snapshot.doses
        self.interactions = sorted(
            snapshot.interactions,
            key=lambda row: (SIGNIFICANCE_ORDER.index(row.significance), row.position),
        )
        self.precautions = snapshot.precautions
        self.faqs = snapshot.faqs
        self.studies = snapshot.studies
        self.numbering = CitationNumbering(self._citations())
        known = self.numbering.known.keys()
        self._recorder = Recorder(known) if record else None
        self._replay = (
            None
            if record or self.revision is None
            else Replay.of(stored_recording(self.revision), known)
        )
        self._render()

    def recording(self):
        """What ``record`` collected, to store on the revision."""
        return self._recorder.recording()

    def _citations(self):
        attached = {
            citation.key: citation
            for rows in (
                self.evidence,
                self.side_effects,
                self.doses,
                self.interactions,
                self.precautions,
                self.studies,
            )
            for row in rows
            for citation in row.cited
        }
        # Text cites by key: the document holds those citations as they stood.
        keys = {key for text in self.snapshot.texts() for key in citation_keys(text)}
        for key in keys - attached.keys():
            if key in self.snapshot.citations:
                attached[key] = self.snapshot.citations[key]
        return attached.values()

    def _text(self, text):
        replayed = self._replay.take(text) if self._replay is not None else None
        if replayed is not None:
            html, keys = replayed
            for key in keys:
                self.numbering.cite(key)
            return SafeString(html)  # sanitized when recorded
        if self._recorder is None:
            return render_markdown(text, numbering=self.numbering)
        self.numbering.log = keys = []
        try:
            html = render_markdown(text, numbering=self.numbering)
        finally:
            self.numbering.log = None
        self._recorder.add(text, html, keys)
        return html

    def _row(self, row, text="", *, before=()):
        """A row's main text rendered; ``before``: names of its Markdown fields
        shown ahead of that text (rendered first, in reading order)."""
        more = {name: self._text(getattr(row, name)) for name in before}
        html = self._text(text)
        in_text = set(citation_keys(text))
        for name in before:
            in_text.update(citation_keys(getattr(row, name)))
        # Attached citations the text does not mark: numbered after it, with
        # an anchor so that the reference list links back here too.
        extra = [
            (*self.numbering.cite(citation.key), citation)
            for citation in row.cited
            if citation.key not in in_text
        ]
        return RenderedRow(row=row, html=html, extra_citations=extra, more=more)

    def _render(self):
        form = self.form
        # Render in reading order: that order numbers the citations.
        self.summary = self._text(form.summary)
        self.composition_note = self._text(form.composition_note)
        self.absorption_notes = self._text(form.absorption_notes)
        self.tolerability_notes = self._text(form.tolerability_notes)
        self.usage = self._text(form.usage)
        self.evidence_rows = [self._row(row, row.summary) for row in self.evidence]
        # Each use's studies, after the uses: in the order of the uses, then
        # of the studies (a fixed order, which numbers their citations).
        findings = use_findings(self.evidence, self.studies)
        self.uses = []
        self.study_rows = []
        for item, found in zip(self.evidence_rows, findings, strict=True):
            studies = [self._row(study, study.notes) for study in found.studies]
            self.study_rows += studies
            self.uses.append(RenderedUse(item=item, findings=found, studies=studies))
        self.dosage_notes = self._text(form.dosage_notes)
        self.dose_rows = [self._row(row, row.notes) for row in self.doses]
        self.common_side_effects = [
            self._row(row, row.notes)
            for row in self.side_effects
            if row.seriousness == FormSideEffect.Seriousness.MILD
        ]
        self.serious_side_effects = [
            self._row(row, row.notes)
            for row in self.side_effects
            if row.seriousness == FormSideEffect.Seriousness.SEEK_ATTENTION
        ]
        self.interaction_rows = [
            self._row(row, row.management, before=["mechanism"])
            for row in self.interactions
        ]
        self.precaution_notes = self._text(form.precaution_notes)
        self.precaution_rows = [self._row(row, row.text) for row in self.precautions]
        self.mechanism = self._text(form.mechanism)
        self.faq_rows = [self._row(row, row.answer) for row in self.faqs]
        self.disclaimer = self._text(form.disclaimer)
        # The rows of each kind as rendered, in page order, by schema name.
        self.rendered_rows = {
            "evidence": self.evidence_rows,
            "side_effects": self.common_side_effects + self.serious_side_effects,
            "doses": self.dose_rows,
            "interactions": self.interaction_rows,
            "precautions": self.precaution_rows,
            "faqs": self.faq_rows,
            "studies": self.study_rows,
        }
        self.references = self.numbering.references()
        self.unresolved = self.numbering.unresolved

    @cached_property
    def summary_text(self):
        """The summary as plain text, citation markers left out."""
        return html.unescape(strip_tags(CITATION_MARKS.sub("", self.summary))).strip()

    @cached_property
    def covered(self):
        """{section: whether the monograph has anything for it}."""
        return {
            "uses": bool(self.usage or self.evidence_rows),
            "dosing": bool(self.dosage_notes or self.dose_rows),
            "side_effects": bool(self.common_side_effects or self.serious_side_effects),
            "interactions": bool(self.interaction_rows),
            "precautions": bool(self.precaution_notes or self.precaution_rows),
            "how_it_works": bool(self.mechanism),
            "faqs": bool(self.faq_rows),
        }

    @property
    def not_covered(self):
        """Names of the sections the monograph does not cover yet, in page order."""
        return [title for name, title in COVERED_SECTIONS if not self.covered[name]]

    @property
    def has_indirect_evidence(self):
        return any(
            use.findings.applicability in ("indirect", "both") for use in self.uses
        )

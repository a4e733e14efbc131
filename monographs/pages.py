"""
A monograph laid out for reading: its sections rendered in page order, so
that citations are numbered in order of first appearance.
"""

from dataclasses import dataclass, field

from monographs.markdown import CitationNumbering, citation_keys, render_markdown
from monographs.models import Evidence, FormSideEffect, Interaction

SIGNIFICANCE_ORDER = list(Interaction.Significance.values)


@dataclass
class RenderedRow:
    row: object
    html: str = ""
    extra_citations: list = field(default_factory=list)


class MonographPage:
    """Everything the monograph template shows, rendered once from a document."""

    def __init__(self, snapshot):
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
        self.numbering = CitationNumbering(self._citations())
        self._render()

    def _citations(self):
        attached = {
            citation.key: citation
            for rows in (
                self.evidence,
                self.side_effects,
                self.doses,
                self.interactions,
                self.precautions,
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
        return render_markdown(text, numbering=self.numbering)

    def _row(self, row, text=""):
        html = self._text(text)
        in_text = set(citation_keys(text))
        # Attached citations the text does not mark: numbered after it, with
        # an anchor so that the reference list links back here too.
        extra = [
            (*self.numbering.cite(citation.key), citation)
            for citation in row.cited
            if citation.key not in in_text
        ]
        return RenderedRow(row=row, html=html, extra_citations=extra)

    def _render(self):
        form = self.form
        # Render in reading order: that order numbers the citations.
        self.summary = self._text(form.summary)
        self.composition_note = self._text(form.composition_note)
        self.absorption_notes = self._text(form.absorption_notes)
        self.tolerability_notes = self._text(form.tolerability_notes)
        self.usage = self._text(form.usage)
        self.evidence_rows = [self._row(row, row.summary) for row in self.evidence]
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
        self.interaction_rows = [self._row(row) for row in self.interactions]
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
        }
        self.references = self.numbering.references()
        self.unresolved = self.numbering.unresolved

    @property
    def has_indirect_evidence(self):
        return any(
            row.applicability == Evidence.Applicability.INDIRECT
            for row in self.evidence
        )

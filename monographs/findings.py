"""
Summaries of findings computed from a use's study rows, and GRADE's words.

Nothing here is typed by an editor: how many studies, how many participants,
how many found an improvement, the pooled estimates and whether the evidence
is about this form or magnesium in general are all counted from the studies
(monographs.models.Study) of a document, so that they cannot disagree with
the studies listed beside them.
"""

from dataclasses import dataclass, field

from monographs.models import Evidence, Study


class Applicability:
    DIRECT = "direct"
    INDIRECT = "indirect"
    BOTH = "both"
    NONE = ""

    LABELS = {
        DIRECT: "Studies of this form",
        INDIRECT: "Studies of other salts or of magnesium in general",
        BOTH: "Studies of this form and of other salts",
        NONE: "No studies recorded",
    }


def is_direct(study, form):
    """Whether ``study`` tested ``form`` itself: same salt in the reference table."""
    return bool(form.salt) and study.salt == form.salt


def applicability_of(studies, form):
    direct = [is_direct(study, form) for study in studies]
    if not direct:
        return Applicability.NONE
    if all(direct):
        return Applicability.DIRECT
    if any(direct):
        return Applicability.BOTH
    return Applicability.INDIRECT


@dataclass
class OutcomeSummary:
    """The findings for one outcome of one use."""

    outcome: str
    studies: list = field(default_factory=list)
    form: object = None

    @property
    def study_count(self):
        """Studies behind the outcome: a review counts the studies it included."""
        return sum(
            study.studies_included if study.studies_included else 1
            for study in self.studies
        )

    @property
    def improved(self):
        """How many of them found an improvement (a review's as it reports)."""
        total = 0
        for study in self.studies:
            if study.studies_included:
                total += study.studies_improved or 0
            elif study.result == Study.Result.IMPROVED:
                total += 1
        return total

    @property
    def improved_known(self):
        """Whether every review says how many of its studies improved."""
        return all(
            study.studies_improved is not None
            for study in self.studies
            if study.studies_included
        )

    @property
    def participants(self):
        return sum(study.participants or 0 for study in self.studies)

    @property
    def participants_unreported(self):
        """Rows whose participants were not reported: the total is a floor."""
        return sum(1 for study in self.studies if study.participants is None)

    @property
    def pooled(self):
        return [study for study in self.studies if study.pooled]

    @property
    def applicability(self):
        return applicability_of(self.studies, self.form)

    @property
    def applicability_label(self):
        return Applicability.LABELS[self.applicability]

    @property
    def tally(self):
        """'5 of 8 studies found an improvement', from the rows."""
        count = self.study_count
        noun = "study" if count == 1 else "studies"
        if not self.improved_known:
            return f"{count} {noun}; how many improved was not reported"
        return f"{self.improved} of {count} {noun} found an improvement"


def outcome_key(outcome):
    return " ".join(outcome.lower().split())


def summaries(studies, form):
    """[OutcomeSummary] of ``studies`` (one use's rows), in first-seen order."""
    found = {}
    for study in studies:
        key = outcome_key(study.outcome)
        summary = found.setdefault(key, OutcomeSummary(study.outcome, form=form))
        summary.studies.append(study)
    return list(found.values())


# GRADE's plain-language statements (Santesso et al., J Clin Epidemiol 2020;
# GRADE Handbook): the verb says how certain the evidence is.
GRADE_WORDS = {
    Evidence.Direction.BENEFIT: {
        Evidence.Certainty.HIGH: "improves",
        Evidence.Certainty.MODERATE: "probably improves",
        Evidence.Certainty.LOW: "may improve",
    },
    Evidence.Direction.NO_EFFECT: {
        Evidence.Certainty.HIGH: "results in little to no difference in",
        Evidence.Certainty.MODERATE: "probably results in little to no difference in",
        Evidence.Certainty.LOW: "may result in little to no difference in",
    },
    Evidence.Direction.HARM: {
        Evidence.Certainty.HIGH: "worsens",
        Evidence.Certainty.MODERATE: "probably worsens",
        Evidence.Certainty.LOW: "may worsen",
    },
    Evidence.Direction.MIXED: {
        Evidence.Certainty.HIGH: "has inconsistent effects on",
        Evidence.Certainty.MODERATE: "probably has inconsistent effects on",
        Evidence.Certainty.LOW: "may have inconsistent effects on",
    },
}


def grade_statement(evidence, subject):
    """The effect in GRADE's words for the certainty, e.g. 'Magnesium
    glycinate may improve sleep onset latency.'; at very low certainty,
    'the evidence is very uncertain', whatever the direction."""
    outcome = evidence.outcome or evidence.indication.name.lower()
    if evidence.certainty == Evidence.Certainty.VERY_LOW:
        return f"The evidence is very uncertain about the effect of {subject} on {outcome}."
    words = GRADE_WORDS.get(evidence.direction, {}).get(evidence.certainty)
    if words is None:
        return ""
    return f"{subject} {words} {outcome}."


def grade_phrase(evidence):
    """The verb phrase alone, for tables: 'may improve', 'very uncertain'."""
    if evidence.certainty == Evidence.Certainty.VERY_LOW:
        return "very uncertain"
    return GRADE_WORDS.get(evidence.direction, {}).get(evidence.certainty, "")


@dataclass
class UseFindings:
    """One use of a form: its rating, and its studies' findings by outcome."""

    evidence: object
    studies: list
    outcomes: list

    @property
    def applicability(self):
        return applicability_of(self.studies, self.evidence.form)

    @property
    def applicability_label(self):
        return Applicability.LABELS[self.applicability]

    @property
    def direct_studies(self):
        return [s for s in self.studies if is_direct(s, self.evidence.form)]

    @property
    def indirect_studies(self):
        return [s for s in self.studies if not is_direct(s, self.evidence.form)]

    @property
    def direct_outcomes(self):
        """The findings credited to the form: its own salt's studies only."""
        return summaries(self.direct_studies, self.evidence.form)

    @property
    def statement(self):
        return grade_statement(self.evidence, self.evidence.form.name)

    @property
    def phrase(self):
        return grade_phrase(self.evidence)


def use_findings(evidence_rows, study_rows):
    """[UseFindings] of a document's evidence rows, with their studies."""
    by_use = {}
    for study in study_rows:
        by_use.setdefault(study.evidence_id, []).append(study)
    found = []
    for evidence in evidence_rows:
        studies = by_use.get(evidence.pk, [])
        found.append(
            UseFindings(
                evidence=evidence,
                studies=studies,
                outcomes=summaries(studies, evidence.form),
            )
        )
    return found


def findings_for(evidence, monograph):
    """The UseFindings of one evidence row of a loaded document."""
    return use_findings([evidence], monograph.studies)[0]


@dataclass
class IndirectStudy:
    """A study cited for forms whose salt it did not test."""

    study: object
    forms: list = field(default_factory=list)


def indirect_studies(uses):
    """The indirect studies of several forms' uses, each once with the forms
    citing it, by study name and outcome."""
    found = {}
    for use in uses:
        for study in use.indirect_studies:
            key = (study.name, outcome_key(study.outcome), study.salt)
            entry = found.setdefault(key, IndirectStudy(study))
            if use.evidence.form not in entry.forms:
                entry.forms.append(use.evidence.form)
    return sorted(
        found.values(), key=lambda entry: (entry.study.name, entry.study.outcome)
    )

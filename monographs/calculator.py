"""
From the weight of a salt on a label to elemental magnesium, for the hydrate
a reader chooses: the form page's calculator, which works as a plain GET form
(no script), and its worked example.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from monographs.reference import MG_PER_MMOL, Hydrate

MAX_LABEL_MG = Decimal(100_000)
# Up to six digits, optionally two decimals: '500', '1000.5', and with
# thousands separators as the page itself writes weights: '1,000', '12,500.5'.
# No signs or exponents, which Decimal() would take, and no '1,5': a comma
# that does not separate thousands is not read as a decimal point.
LABEL_MG_RE = re.compile(r"(?:[0-9]{1,6}|[0-9]{1,3},[0-9]{3})(?:\.[0-9]{1,2})?")
BASIS = "basis"


class CalculatorError(ValueError):
    """A query the calculator cannot answer; the message says why."""


def hydrates_of(form):
    """The weighable forms of ``form``: its own basis first (the percentage on
    its page), then the reference table's other hydrates of its salt."""
    basis = Hydrate(
        key=BASIS,
        label=form.formula_basis or form.name,
        elemental_mg_percent=form.elemental_mg_percent,
    )
    salt = form.reference_salt
    others = list(salt.hydrates[1:]) if salt else []
    return [basis, *others]


def example_hydrate(form, synonyms):
    """The hydrate the worked example uses: one a synonym names (Epsom salt
    is the heptahydrate), else the form's own basis. (hydrate, name or "")."""
    salt = form.reference_salt
    if salt is not None:
        for synonym in synonyms:
            hydrate = salt.hydrate_named(synonym.name)
            if hydrate is not None:
                return hydrate, synonym.name
    return hydrates_of(form)[0], ""


def _round(value, places):
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass
class Calculation:
    hydrates: list
    hydrate: object = None
    label_mg: Decimal | None = None
    label_text: str = ""
    error: str = ""

    @property
    def elemental_mg(self):
        if self.label_mg is None:
            return None
        return _round(self.hydrate.elemental_mg_in(self.label_mg), 1)

    @property
    def mmol(self):
        if self.label_mg is None:
            return None
        return _round(self.hydrate.elemental_mg_in(self.label_mg) / MG_PER_MMOL, 2)


def calculate(form, query):
    """The calculation ``query`` (request.GET) asks for on ``form``'s page.

    Without ``label_mg`` nothing is calculated. Raises CalculatorError for a
    weight that is not a positive number up to 100,000 mg, or a hydrate the
    form does not have; the Calculation is on the error, to show the form again.
    """
    hydrates = hydrates_of(form)
    calculation = Calculation(hydrates=hydrates, hydrate=hydrates[0])
    key = query.get("hydrate")
    if key is not None:
        chosen = next((h for h in hydrates if h.key == key), None)
        if chosen is None:
            error = CalculatorError(
                f"{form.name} has no form “{key[:40]}” in the reference table: "
                "choose one from the list."
            )
            error.calculation = calculation
            raise error
        calculation.hydrate = chosen
    text = query.get("label_mg")
    if text is None:
        return calculation
    calculation.label_text = text[:20]
    text = text.strip()
    weight = Decimal(text.replace(",", "")) if LABEL_MG_RE.fullmatch(text) else None
    if weight is None or not 0 < weight <= MAX_LABEL_MG:
        error = CalculatorError(
            "Enter the weight on the label in milligrams, a number above 0 and up "
            "to 100,000 with at most two decimals, e.g. 500."
        )
        error.calculation = calculation
        raise error
    calculation.label_mg = weight
    return calculation

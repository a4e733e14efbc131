"""
Reference values used by validation and calculation, transcribed from the
vetted files of shared/reference/ (intake.md and forms.csv), each with its
source.

They are constants rather than editable rows: they are facts with a source,
changed only with that source in hand and reviewed like code, and the
validation of every dose and the derivation of every study's applicability
read them. Editors choose from them; they never edit them.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models

# Tolerable Upper Intake Level for magnesium from supplements and medicines,
# ages 9 and over, pregnancy and lactation included (Institute of Medicine,
# Dietary Reference Intakes, 1997; doi:10.17226/5776). Food is not counted.
SUPPLEMENT_UL_MG = 350

# 1 mmol of magnesium weighs 24.3 mg (intake.md, "Units").
MG_PER_MMOL = Decimal("24.3")


class AgeBand(models.TextChoices):
    """The age bands of the Tolerable Upper Intake Level (intake.md)."""

    INFANTS = "0-12m", "Infants, 0–12 months"
    AGE_1_3 = "1-3y", "Children, 1–3 years"
    AGE_4_8 = "4-8y", "Children, 4–8 years"
    AGE_9_13 = "9-13y", "Children, 9–13 years"
    AGE_14_18 = "14-18y", "Adolescents, 14–18 years"
    ADULTS = "adults", "Adults, 19 years and older"


# Supplemental magnesium, mg/day, by age band; None: not established.
# Source: IOM 1997, restated in the NIH ODS fact sheet (intake.md).
UPPER_LIMIT_MG = {
    AgeBand.INFANTS: None,
    AgeBand.AGE_1_3: 65,
    AgeBand.AGE_4_8: 110,
    AgeBand.AGE_9_13: SUPPLEMENT_UL_MG,
    AgeBand.AGE_14_18: SUPPLEMENT_UL_MG,
    AgeBand.ADULTS: SUPPLEMENT_UL_MG,
}

# Pregnancy and lactation are recorded from age 14 (intake.md's RDA table).
CHILDBEARING_AGE_BANDS = (AgeBand.AGE_14_18, AgeBand.ADULTS)


@dataclass(frozen=True)
class Hydrate:
    """A weighable form of a salt: its formula basis and elemental share."""

    key: str
    label: str
    elemental_mg_percent: Decimal
    # Names that mean this hydrate in particular, e.g. "Epsom salt".
    names: tuple = ()

    def elemental_mg_in(self, salt_mg):
        return salt_mg * self.elemental_mg_percent / 100


@dataclass(frozen=True)
class Salt:
    key: str
    name: str
    hydrates: tuple  # the basis of the form's own percentage first

    @property
    def basis(self):
        return self.hydrates[0]

    def hydrate(self, key):
        return next((h for h in self.hydrates if h.key == key), None)

    def hydrate_named(self, name):
        """The hydrate a name such as "Epsom salt" means, or None."""
        wanted = name.strip().lower()
        return next(
            (
                hydrate
                for hydrate in self.hydrates
                if wanted in (n.lower() for n in hydrate.names)
            ),
            None,
        )


def _salt(key, name, *hydrates):
    return Salt(
        key=key,
        name=name,
        hydrates=tuple(
            Hydrate(
                key=h[0], label=h[1], elemental_mg_percent=Decimal(h[2]), names=h[3:]
            )
            for h in hydrates
        ),
    )


# shared/reference/forms.csv: formula basis, elemental_mg_percent and the
# other hydrate where it gives one (Molecules 2020;25:3172 Table 3,
# PMC7397051; Molecules 2021;26:2419 Table 1, PMC8122334; gluconate
# calculated from the formula). Epsom salt is magnesium sulfate heptahydrate.
SALTS = (
    _salt("oxide", "Magnesium oxide", ("mgo", "MgO", "60.3")),
    _salt("hydroxide", "Magnesium hydroxide", ("mg-oh-2", "Mg(OH)2", "41.7")),
    _salt("carbonate", "Magnesium carbonate", ("mgco3", "MgCO3", "28.8")),
    _salt(
        "chloride",
        "Magnesium chloride",
        ("anhydrous", "MgCl2 (anhydrous)", "25.5"),
        ("hexahydrate", "MgCl2·6H2O (hexahydrate)", "12.0"),
    ),
    _salt(
        "sulfate",
        "Magnesium sulfate",
        ("anhydrous", "MgSO4 (anhydrous)", "20.2"),
        ("heptahydrate", "MgSO4·7H2O (heptahydrate)", "9.9", "Epsom salt"),
    ),
    _salt(
        "citrate",
        "Magnesium citrate",
        ("anhydrous", "Mg3(C6H5O7)2 (anhydrous)", "16.2"),
        ("monomagnesium", "MgC6H6O7 (monomagnesium citrate)", "11.3"),
    ),
    _salt(
        "malate",
        "Magnesium malate",
        ("anhydrous", "Mg(C4H4O5) (anhydrous)", "15.5"),
        ("trihydrate", "Trihydrate", "11.6"),
    ),
    _salt("glycinate", "Magnesium glycinate", ("basis", "Mg(C2H4NO2)2", "14.1")),
    _salt(
        "lactate",
        "Magnesium lactate",
        ("anhydrous", "Mg(C3H5O3)2 (anhydrous)", "12.0"),
        ("dihydrate", "Dihydrate", "10.2"),
    ),
    _salt("taurate", "Magnesium taurate", ("basis", "Mg(C2H6NO3S)2", "8.9")),
    _salt(
        "aspartate",
        "Magnesium aspartate",
        ("anhydrous", "Mg(C4H6NO4)2 (anhydrous)", "8.4"),
        ("dihydrate", "Dihydrate", "7.5"),
    ),
    _salt("l-threonate", "Magnesium L-threonate", ("basis", "Mg(C4H7O5)2", "8.3")),
    _salt(
        "orotate",
        "Magnesium orotate",
        ("anhydrous", "Mg(C5H3N2O4)2 (anhydrous)", "7.3"),
        ("dihydrate", "Dihydrate", "6.6"),
    ),
    _salt(
        "gluconate",
        "Magnesium gluconate",
        ("anhydrous", "Mg(C6H11O7)2 (anhydrous)", "5.9"),
        ("dihydrate", "Dihydrate", "5.4"),
    ),
)
SALTS_BY_KEY = {salt.key: salt for salt in SALTS}

# What a study may have given besides one known salt.
UNSPECIFIED_SALT = "unspecified"
SEVERAL_SALTS = "several"
SALT_CHOICES = [
    *((salt.key, salt.name) for salt in SALTS),
    (UNSPECIFIED_SALT, "Oral magnesium, salt not stated"),
    (SEVERAL_SALTS, "Several salts"),
]

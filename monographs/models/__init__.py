from .citations import Citation
from .entries import FAQ, Dose, Evidence, FormSideEffect, Interaction, Precaution
from .forms import MagnesiumForm, Synonym
from .topics import Indication, SideEffect

__all__ = [
    "FAQ",
    "Citation",
    "Dose",
    "Evidence",
    "FormSideEffect",
    "Indication",
    "Interaction",
    "MagnesiumForm",
    "Precaution",
    "SideEffect",
    "Synonym",
]

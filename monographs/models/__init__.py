from .citations import Citation
from .entries import FAQ, Dose, Evidence, FormSideEffect, Interaction, Precaution
from .forms import MagnesiumForm, Synonym
from .revisions import ReviewEvent, Revision
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
    "ReviewEvent",
    "Revision",
    "SideEffect",
    "Synonym",
]

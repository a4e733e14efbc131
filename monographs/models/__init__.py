from .citations import Citation
from .entries import FAQ, Dose, Evidence, FormSideEffect, Interaction, Precaution
from .forms import MagnesiumForm, Synonym
from .revisions import ReviewEvent, Revision
from .search import SearchDocument
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
    "SearchDocument",
    "SideEffect",
    "Synonym",
]

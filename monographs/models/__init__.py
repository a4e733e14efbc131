from django.db.models.signals import pre_save

from .citations import Citation
from .entries import FAQ, Dose, Evidence, FormSideEffect, Interaction, Precaution
from .forms import MagnesiumForm, Synonym
from .revisions import Publication, ReviewEvent, Revision
from .search import SearchDocument
from .studies import Study
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
    "Publication",
    "ReviewEvent",
    "Revision",
    "SearchDocument",
    "SideEffect",
    "Study",
    "Synonym",
]


def _normalize_text(sender, instance, **kwargs):
    """Content text is stored normalised: LF line endings, no trailing
    whitespace (see monographs.schema.normalize_text)."""
    from monographs.schema import CONTENT_MODELS, normalize_text, text_fields

    if sender._meta.app_label != "monographs" or sender.__name__ not in CONTENT_MODELS:
        return
    for attname in text_fields(sender.__name__):
        value = getattr(instance, attname)
        if isinstance(value, str):
            setattr(instance, attname, normalize_text(value))


pre_save.connect(_normalize_text, dispatch_uid="mgref-normalize-text")

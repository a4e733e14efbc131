"""Checks on the short texts people type: names, reasons, comments."""

import re
import unicodedata

from django.core.exceptions import ValidationError

# Characters that reorder the text around them (RLO, LRI…): "pidolate
# \u202etest" shows as "pidolate tset". No name or reason needs one, and they
# make a name or an edit summary read as something it is not.
BIDI_CONTROLS_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What draws nothing: spaces, controls, and format characters such as the
# zero-width space (Zs, Zl, Zp, Cc, Cf).
INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def is_blank(text):
    """Whether ``text`` shows nothing at all: a reason of zero-width spaces
    is no reason."""
    return all(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in text)


def validate_no_bidi_controls(value):
    found = BIDI_CONTROLS_RE.search(value or "")
    if found:
        raise ValidationError(
            "This text holds an invisible character that reverses or reorders "
            f"the text around it (U+{ord(found.group()):04X}): remove it.",
            code="bidi_control",
        )


def refuse_bidi_name(instance):
    """For a model's clean(): its ``name`` holds no bidi control."""
    try:
        validate_no_bidi_controls(instance.name)
    except ValidationError as error:
        raise ValidationError({"name": error}) from None

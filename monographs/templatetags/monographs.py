from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from monographs.citation_styles import vancouver
from monographs.markdown import render_markdown
from monographs.page_citation import PageCitation

register = template.Library()


@register.filter
def markdown(text):
    """Render Markdown through the sanitizing renderer (citations unnumbered)."""
    return render_markdown(text)


@register.filter
def full_stop(quoted):
    """The stop a sentence ending with ``quoted`` takes: none when the quoted
    words end their own sentence ("… by a person.”", not "… person.”.")."""
    return "" if str(quoted).rstrip().endswith((".", "!", "?", "…")) else "."


@register.filter(name="vancouver")
def vancouver_filter(citation):
    return vancouver(citation)


@register.filter
def elemental_mg(form, salt_mg):
    """Elemental magnesium in ``salt_mg`` mg of the form, to a whole mg,
    halves rounded up as readers round (Python's round() takes 70.5 to 70)."""
    value = Decimal(str(form.elemental_mg_in(salt_mg)))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@register.filter
def percent(value):
    """A stored percentage as the reference writes it: "14.1", not the
    column's "14.10"; "12.0" for a whole number; more decimals only where
    the value has them ("8.25")."""
    if value is None or value == "":
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return text if "." in text else f"{text}.0"


@register.filter
def iso(value):
    """A datetime as HTML's datetime attribute wants it: to the second."""
    return value.isoformat(timespec="seconds") if value else ""


@register.filter
def index(sequence, position):
    """``sequence[position]``, or "" past its end."""
    try:
        return sequence[position]
    except (IndexError, TypeError, KeyError):
        return ""


@register.simple_tag(takes_context=True)
def page_citation(context):
    """How to cite the revision a monograph page shows: its permanent
    address, with the date it was approved (or saved, if it was not)."""
    revision, monograph = context["revision"], context["monograph"]
    approval = context.get("approval")
    date = approval.created_at if approval is not None else revision.created_at
    return PageCitation.of(
        context["request"],
        # The revision's own address: a permalink's page never changes, even
        # when the monograph's address later does (the old one redirects).
        revision.slug or monograph.slug,
        context["form"].name,
        revision.number,
        date,
        approved=approval is not None,
    )


@register.simple_tag
def monograph_diff(diff, level=2):
    """The diff of two documents, as the public diff page shows it: the
    admin's review pages (Django templates) use the readers' Jinja2 include,
    so the two never drift apart. ``level``: its sections' heading level."""
    return mark_safe(  # noqa: S308 - the include escapes what it prints
        render_to_string("includes/monograph_diff.html", {"diff": diff, "level": level})
    )

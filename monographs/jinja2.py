"""The Jinja2 environment of the readers' pages (``jinja2/``).

Readers' pages are rendered by Jinja2, which compiles a template to Python
code once, where Django's engine walks a tree of nodes on every render: on
the monograph page, some 900 nodes took two thirds of an uncached request.
The admin keeps Django's templates (``templates/``).

The environment offers what the pages used from Django's template language,
under the same names: ``url()``, ``static()``, and the ``date``,
``capfirst``, ``pluralize`` filters with Django's semantics, plus mgref's
own filters (``monographs.templatetags.monographs``).
"""

from django.template import defaultfilters
from django.templatetags.static import static
from django.utils.timezone import template_localtime
from jinja2 import ChainableUndefined, Environment, Undefined, pass_context

from monographs.reversing import cached_reverse
from monographs.templatetags import monographs as tags


def url(viewname, *args):
    """``{% url %}``: ``url("monographs:form-detail", slug)``, kept per
    name and arguments (``monographs.reversing``)."""
    return cached_reverse(viewname, args)


def date(value, arg=None):
    """Django's ``date`` filter, in the current time zone as Django's
    engine gives it (it converts a datetime before a filter sees it)."""
    return defaultfilters.date(template_localtime(value), arg)


@pass_context
def page_citation(context):
    """How to cite the revision the page shows (see the template tag)."""
    return tags.page_citation(context)


def _finalize(value):
    """What ``{{ value }}`` prints. Django's templates call a callable they
    are given; Jinja2 prints it (``<bound method ...>``), so a template that
    forgot ``()`` fails loudly instead of showing that to readers."""
    if callable(value) and not isinstance(value, Undefined):
        raise TypeError(f"A template printed a callable, {value!r}: call it with ().")
    return value


def environment(**options):
    # Like Django's templates, a missing variable or attribute renders as
    # nothing instead of failing the page.
    options["undefined"] = ChainableUndefined
    options["finalize"] = _finalize
    env = Environment(**options)
    env.globals.update(url=url, static=static, page_citation=page_citation)
    env.filters.update(
        date=date,
        capfirst=defaultfilters.capfirst,
        pluralize=defaultfilters.pluralize,
        truncatewords=defaultfilters.truncatewords,
        urlencode=defaultfilters.urlencode,
        iso=tags.iso,
        vancouver=tags.vancouver_filter,
        elemental_mg=tags.elemental_mg,
        percent=tags.percent,
        markdown=tags.markdown,
        index=tags.index,
    )
    return env

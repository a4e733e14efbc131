"""Shared set-up for the history tests: edits made the way the app makes them.

Every content change runs inside ``change_context`` (one block, one revision)
and approvals go through ``monographs.services``, as the admin does.
"""

import html
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from django.template.defaultfilters import date as date_filter
from django.utils.html import strip_tags

from monographs import services
from monographs.history import change_context
from monographs.models import MagnesiumForm, Revision
from tests import factories

ATOM = "{http://www.w3.org/2005/Atom}"


def fresh(form):
    """The form as stored now: workflow fields change behind an instance's back."""
    return MagnesiumForm.objects.get(pk=form.pk)


def latest(form):
    return Revision.objects.for_form(form.pk).order_by("-number").first()


def revision(form, number):
    return Revision.objects.get(form_id=form.pk, number=number)


def create_monograph(user, reason="Wrote the monograph", **fields):
    with change_context(reason=reason, user=user):
        return factories.MagnesiumFormFactory(**fields)


def edit(form, user, reason, **fields):
    """Save new values of the form's own fields as one revision; return it."""
    form = fresh(form)
    with change_context(reason=reason, user=user):
        for name, value in fields.items():
            setattr(form, name, value)
        form.save()
    return latest(form)


def approve(form, reviewer, comment=""):
    return services.monograph_approve(
        form=form, user=reviewer, revision_number=latest(form).number, comment=comment
    )


def request_changes(form, reviewer, comment):
    return services.monograph_request_changes(
        form=form, user=reviewer, revision_number=latest(form).number, comment=comment
    )


def text_of(markup):
    """What a reader sees of some HTML: tags gone, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(strip_tags(markup)).split())


def page_text(response):
    return text_of(response.content.decode())


ROW_RE = re.compile(r"<tr(?: [^>]*)?>(.*?)</tr>", re.S)
REVISION_CELL_RE = re.compile(
    r'<th scope="row"><a href="[^"]*/revisions/(\d+)/">\d+</a></th>'
)


def revision_rows(response):
    """{revision number: row HTML} of a history or recent-changes table, in page order."""
    rows = {}
    for row in ROW_RE.findall(response.content.decode()):
        match = REVISION_CELL_RE.search(row)
        if match:
            rows[int(match.group(1))] = row
    return rows


def radio_values(response, name):
    return [
        int(value)
        for value in re.findall(
            rf'<input type="radio" name="{name}" value="(\d+)"',
            response.content.decode(),
        )
    ]


def checked_radio(response, name):
    found = re.findall(
        rf'<input type="radio" name="{name}" value="(\d+)"[^>]*\schecked',
        response.content.decode(),
    )
    return [int(value) for value in found]


TIME_RE = re.compile(r'<time datetime="([^"]+)">')


def shows_time(markup, moment):
    """Whether some <time datetime> in ``markup`` is ``moment``, to the second."""
    return any(
        abs(datetime.fromisoformat(value) - moment) < timedelta(seconds=1)
        for value in TIME_RE.findall(markup)
    )


def long_date(moment):
    return date_filter(moment, "j F Y")


def parse_atom(response):
    root = ET.fromstring(response.content)
    return root, root.findall(f"{ATOM}entry")

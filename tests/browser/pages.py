"""The public pages the accessibility and validity checks visit."""

from django.contrib.auth import get_user_model

from monographs.history import change_context
from monographs.models import MagnesiumForm, Revision
from monographs.services import monograph_approve


def make_second_revision():
    """Edit and approve glycinate once, so that it has a history and a diff."""
    form = MagnesiumForm.objects.get(slug="magnesium-glycinate")
    reviewer = get_user_model().objects.create_user(
        "checker", first_name="Casey", last_name="Check"
    )
    with change_context(reason="Clarify when to take it", user=reviewer):
        form.dosage_notes += "\n\nTake it with food if it upsets your stomach."
        form.save()
    monograph_approve(
        form=form,
        user=reviewer,
        revision_number=Revision.objects.latest_number(form.pk),
    )


PUBLIC_PAGES = {
    "home": "/",
    "forms": "/forms/",
    "monograph": "/forms/magnesium-glycinate/",
    "sparse monograph": "/forms/magnesium-oxide/",
    "indication": "/indications/sleep-quality/",
    "indications": "/indications/",
    "side effect": "/side-effects/diarrhea/",
    "side effects": "/side-effects/",
    "interactions": "/interactions/",
    "comparison": "/forms/compare/?forms=magnesium-glycinate&forms=magnesium-citrate&forms=magnesium-oxide",
    "search": "/search/?q=magnesium",
    "history": "/forms/magnesium-glycinate/history/",
    "permalink": "/forms/magnesium-glycinate/revisions/1/",
    "diff": "/forms/magnesium-glycinate/diff/?from=1&to=2",
    "changes": "/changes/",
    "citations": "/citations/",
    "api": "/api/",
}

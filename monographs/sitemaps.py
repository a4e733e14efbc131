from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from monographs.models import (
    Evidence,
    FormSideEffect,
    Indication,
    ReviewEvent,
    SideEffect,
)
from monographs.snapshots import published_forms, published_records


class FormSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        forms = published_forms()
        approvals = {
            event.form_id: event.created_at
            for event in ReviewEvent.objects.filter(
                action=ReviewEvent.Action.APPROVED
            ).order_by("created_at")
        }
        for form in forms:
            form.approved_at = approvals.get(form.pk)
        return forms

    def lastmod(self, form):
        return form.approved_at


class TopicSitemap(Sitemap):
    """Uses and side effects that a published monograph mentions."""

    changefreq = "monthly"
    priority = 0.5

    def __init__(self, model, row_model, field):
        self.model, self.row_model, self.field = model, row_model, field

    def items(self):
        used = published_records(self.row_model).values(self.field)
        return self.model.objects.filter(pk__in=used)


class PageSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return [
            "monographs:home",
            "monographs:form-list",
            "monographs:indication-list",
            "monographs:side-effect-list",
            "monographs:interaction-list",
            "monographs:citation-list",
        ]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "pages": PageSitemap,
    "forms": FormSitemap,
    "indications": TopicSitemap(Indication, Evidence, "indication_id"),
    "side-effects": TopicSitemap(SideEffect, FormSideEffect, "side_effect_id"),
}

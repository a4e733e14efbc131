from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from monographs.models import Indication, ReviewEvent, SideEffect
from monographs.snapshots import published_forms


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
    changefreq = "monthly"
    priority = 0.5

    def __init__(self, model):
        self.model = model

    def items(self):
        return self.model.objects.all()


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
    "indications": TopicSitemap(Indication),
    "side-effects": TopicSitemap(SideEffect),
}

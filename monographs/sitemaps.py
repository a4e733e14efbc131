from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from monographs.selectors import published_forms, published_topics


class FormSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return published_forms()

    def lastmod(self, form):
        return form.publication.approved_at


class TopicSitemap(Sitemap):
    """Uses and side effects that a published monograph names."""

    changefreq = "monthly"
    priority = 0.5

    def __init__(self, topic):
        self.topic = topic

    def items(self):
        return list(published_topics(self.topic).values())


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
    "indications": TopicSitemap("indication"),
    "side-effects": TopicSitemap("side_effect"),
}

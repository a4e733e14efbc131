"""
The sitemap: every indexable public page, dated by the approval it shows.

Monographs, their history pages, the uses and side effects and the citations
that published monographs name, the lists and /changes/. Each page's
``lastmod`` is the latest approval (or withdrawal) that changed what it
shows. Past 50,000 addresses, /sitemap.xml becomes a sitemap index of
per-section sitemaps, each at most 50,000 addresses long.
"""

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.urls import reverse
from django.views.decorators.http import require_safe

from monographs.models import ReviewEvent
from monographs.selectors import published_monographs, published_topics

# The sitemaps protocol's limit of addresses per file.
SITEMAP_LIMIT = 50_000


class PublishedSitemap(Sitemap):
    """Reads the published documents once per sitemap, not once per item."""

    limit = SITEMAP_LIMIT
    # The kinds of row the sitemap reads (see document_load): none but the
    # form and its topics, unless it says otherwise.
    kinds = ()

    @property
    def monographs(self):
        if not hasattr(self, "_monographs"):
            self._monographs = published_monographs(kinds=self.kinds)
        return self._monographs


class FormSitemap(PublishedSitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return [monograph.publication for monograph in self.monographs]

    def location(self, publication):
        return reverse("monographs:form-detail", args=[publication.slug])

    def lastmod(self, publication):
        return publication.approved_at


class HistorySitemap(FormSitemap):
    """Each published monograph's history: it changes with every approval."""

    priority = 0.3

    def location(self, publication):
        return reverse("monographs:form-history", args=[publication.slug])


class TopicSitemap(PublishedSitemap):
    """Uses or side effects that a published monograph names, dated by the
    latest approval of a monograph naming them."""

    changefreq = "monthly"
    priority = 0.5
    topic = None

    def items(self):
        topics = published_topics(self.topic, self.monographs)
        for topic in topics.values():
            topic.lastmod = max(
                monograph.publication.approved_at
                for monograph in self.monographs
                if topic.pk in monograph.topics.get(self.topic, {})
            )
        return list(topics.values())

    def lastmod(self, topic):
        return topic.lastmod


class IndicationSitemap(TopicSitemap):
    topic = "indication"


class SideEffectSitemap(TopicSitemap):
    topic = "side_effect"


class CitationSitemap(PublishedSitemap):
    """The page of every citation a published monograph cites."""

    changefreq = "monthly"
    priority = 0.4
    # What readers see cited is in the rows and their texts.
    kinds = None

    def items(self):
        latest = {}
        for monograph in self.monographs:
            approved = monograph.publication.approved_at
            for citation in monograph.reader_citations().values():
                if citation.pk not in latest or approved > latest[citation.pk]:
                    latest[citation.pk] = approved
        return sorted(latest.items())

    def location(self, item):
        return reverse("monographs:citation-detail", args=[item[0]])

    def lastmod(self, item):
        return item[1]


def latest_public_change():
    """When readers' pages last changed: the latest approval or withdrawal."""
    return (
        ReviewEvent.objects.filter(action__in=ReviewEvent.PUBLIC)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


class PageSitemap(Sitemap):
    """Lists drawn from every monograph: they change with any approval."""

    changefreq = "weekly"
    priority = 0.6
    limit = SITEMAP_LIMIT

    def items(self):
        return [
            "monographs:home",
            "monographs:form-list",
            "monographs:indication-list",
            "monographs:side-effect-list",
            "monographs:interaction-list",
            "monographs:citation-list",
            "monographs:change-list",
            "monographs:api-docs",
        ]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        if not hasattr(self, "_latest"):
            self._latest = latest_public_change()
        return self._latest


# Classes, not instances: each request reads the publications afresh.
SITEMAPS = {
    "pages": PageSitemap,
    "forms": FormSitemap,
    "history": HistorySitemap,
    "indications": IndicationSitemap,
    "side-effects": SideEffectSitemap,
    "citations": CitationSitemap,
}


@require_safe
def sitemap(request):
    """/sitemap.xml: one sitemap while it fits, else an index of sections."""
    sections = {name: site() for name, site in SITEMAPS.items()}
    total = sum(site.paginator.count for site in sections.values())
    if total > SITEMAP_LIMIT:
        return sitemap_views.index(
            request, sections, sitemap_url_name="sitemap-section"
        )
    return sitemap_views.sitemap(request, sections)


@require_safe
def sitemap_section(request, section):
    """One section of the index, ?p= paging it past 50,000 addresses."""
    return sitemap_views.sitemap(request, SITEMAPS, section=section)

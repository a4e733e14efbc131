from django.db import models

from monographs.reversing import cached_reverse


class SearchDocument(models.Model):
    """The published text of one monograph, flattened for search.

    Rewritten whenever a revision is published, so search only ever finds
    approved content.
    """

    form = models.OneToOneField(
        "MagnesiumForm", on_delete=models.CASCADE, related_name="search_document"
    )
    revision = models.ForeignKey("Revision", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, help_text="The published address.")
    synonyms = models.TextField(blank=True)
    topics = models.TextField(
        blank=True, help_text="Names of the indications and side effects on the page."
    )
    body = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return cached_reverse("monographs:form-detail", (self.slug,))

from django.db import models

from monographs.history import ContentHistory
from monographs.reversing import cached_reverse
from monographs.validators import refuse_bidi_name

from .fields import MarkdownField


class Indication(models.Model):
    """An outcome a form is taken for: sleep quality, migraine, constipation…"""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, db_index=False)
    description = MarkdownField(blank=True)

    history = ContentHistory()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="indication_slug_unique"),
            models.UniqueConstraint(fields=["name"], name="indication_name_unique"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return cached_reverse("monographs:indication-detail", (self.slug,))

    def clean(self):
        super().clean()
        refuse_bidi_name(self)


class SideEffect(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, db_index=False)
    description = MarkdownField(blank=True)

    history = ContentHistory()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="side_effect_slug_unique"),
            models.UniqueConstraint(fields=["name"], name="side_effect_name_unique"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return cached_reverse("monographs:side-effect-detail", (self.slug,))

    def clean(self):
        super().clean()
        refuse_bidi_name(self)

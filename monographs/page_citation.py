"""
"Cite this page": how to cite one revision of a monograph, as text
(Vancouver, as for a web page), RIS and BibTeX (biblatex's @online).

A citation names the revision's permanent address, never the page that
changes, with the date the revision was published (or, for a revision not yet
approved, saved): a reader following it later sees what was cited.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from monographs.exports import bibtex_escape, bibtex_key, bibtex_verbatim, one_line
from monographs.reversing import cached_reverse

PUBLISHER = "mgref"


@dataclass(frozen=True)
class PageCitation:
    title: str
    revision: int
    date: datetime
    url: str  # the revision's permanent address, absolute
    approved: bool = True  # else the date is when it was saved
    publisher: str = PUBLISHER

    @classmethod
    def of(cls, request, slug, name, revision, date, *, approved=True):
        path = cached_reverse("monographs:revision-detail", (slug, revision))
        return cls(
            title=one_line(name),
            revision=revision,
            date=timezone.localtime(date) if timezone.is_aware(date) else date,
            url=request.build_absolute_uri(path),
            approved=approved,
        )

    @property
    def date_words(self):
        return f"{self.date.year} {self.date:%b} {self.date.day}"

    @property
    def text(self):
        """Vancouver (NLM), as for a web page."""
        return (
            f"{self.publisher}. {self.title} [Internet]. {self.publisher}; "
            f"{self.date.year} [revision {self.revision}, "
            f"{'published' if self.approved else 'saved'} {self.date_words}]. "
            f"Available from: {self.url}"
        )

    @property
    def ris(self):
        lines = [
            ("TY", "ELEC"),
            ("AU", self.publisher),
            ("TI", self.title),
            ("T2", self.publisher),
            ("PB", self.publisher),
            ("PY", str(self.date.year)),
            ("DA", f"{self.date:%Y/%m/%d}"),
            ("ET", f"Revision {self.revision}"),
            ("UR", self.url),
            ("ER", ""),
        ]
        return "\n".join(f"{tag}  - {value}".rstrip() for tag, value in lines)

    @property
    def bibtex_key(self):
        return bibtex_key(f"{self.publisher}-{self.title}-r{self.revision}")

    @property
    def bibtex(self):
        fields = [
            ("author", "{" + bibtex_escape(self.publisher) + "}"),
            ("title", bibtex_escape(self.title)),
            ("organization", bibtex_escape(self.publisher)),
            ("date", f"{self.date:%Y-%m-%d}"),
            ("version", str(self.revision)),
            ("url", bibtex_verbatim(self.url)),
        ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        return f"@online{{{self.bibtex_key},\n{body}\n}}"

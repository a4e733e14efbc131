"""
A revision's Markdown, rendered once.

An approved revision never changes, and neither does its text rendered by one
version of the renderer. So approval records, beside the document, the HTML
of every text of the page in reading order, with the citation keys each one
numbered (MediaWiki keeps its parser output the same way). A reader's page
replays that recording: it numbers the same keys in the same order and takes
the HTML as recorded, instead of running Markdown again on every request.

The recording is only ever an optimisation, never a source of truth:

- it names the renderer that made it (``RENDERER``: the renderer's source and
  the versions of Python-Markdown and nh3), and a page ignores a recording
  made by any other renderer, so a sanitizer fix reaches every page at once;
- each entry carries a digest of the text it rendered, and replay stops at
  the first text that differs, rendering the rest live;
- it names the citation keys the page could resolve, since those decide
  whether a marker is a link or "citation needed".

``manage.py render_revisions`` records what is missing or stale, as after a
deployment that changed the renderer.
"""

import hashlib
from importlib import metadata
from pathlib import Path

from monographs import markdown


def _renderer_version():
    digest = hashlib.sha256(Path(markdown.__file__).read_bytes())
    for package in ("markdown", "nh3"):
        digest.update(f"{package}=={metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


RENDERER = _renderer_version()


def text_digest(text):
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def keys_digest(keys):
    return text_digest("\n".join(sorted(keys)))


class Recorder:
    """Collects a page's renders: [text digest, HTML, keys cited] each."""

    def __init__(self, known_keys):
        self.known = keys_digest(known_keys)
        self.entries = []

    def add(self, text, html, keys):
        self.entries.append([text_digest(text), str(html), keys])

    def recording(self):
        return {"renderer": RENDERER, "known": self.known, "texts": self.entries}


class Replay:
    """Hands back a recording's renders while the page asks for the same texts."""

    def __init__(self, entries):
        self.entries = entries
        self.position = 0

    @classmethod
    def of(cls, recording, known_keys):
        """A replay of ``recording``, or None if it cannot be trusted here."""
        if (
            not isinstance(recording, dict)
            or recording.get("renderer") != RENDERER
            or recording.get("known") != keys_digest(known_keys)
        ):
            return None
        return cls(recording.get("texts") or [])

    def take(self, text):
        """(HTML, keys cited) recorded for ``text`` at this point, or None.

        After the first mismatch, every later text is rendered live: the
        numbering of what follows depends on everything before it.
        """
        if self.position >= len(self.entries):
            return None
        digest, html, keys = self.entries[self.position]
        if digest != text_digest(text):
            self.entries = ()
            return None
        self.position += 1
        return html, keys


def stored_recording(revision):
    """The revision's recording if it was loaded with it: never a query."""
    if "rendering" in revision.get_deferred_fields():
        return None
    return revision.rendering

"""
Tests of import_monographs and export_monographs.

tests/import_samples/ holds copies of the two seed documents
(shared/seeds/004_*.txt, a Markdown page with front matter and ### sections,
and shared/seeds/000_*.txt, a clinical summary with trailing reference
numbers). Broken files are written by the tests into temporary folders,
byte for byte, so that encodings and line endings are exactly as meant.
"""

import tempfile
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from django.core.management import call_command

SAMPLES = Path(__file__).resolve().parent.parent / "import_samples"
BISGLYCINATE_PAGE = SAMPLES / "004_6e5d669d74d2bdc6.txt"
GLYCINATE_SUMMARY = SAMPLES / "000_4e731b9c852b6ae8.txt"


def write(folder, name, content):
    """Write ``content`` (text as UTF-8, or bytes as given) to folder/name."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def page(title, body="", **front):
    """A monograph file in the 004 layout: front matter, a # title, then ``body``."""
    lines = ["---", "layout: minimal-medicine", f"title: {title}"]
    lines += [f"{name}: {value}" for name, value in front.items()]
    lines += ["---", "", f"# {title}", body.strip(), ""]
    return "\n".join(lines)


@dataclass
class Run:
    out: str
    err: str
    code: int


def run_import(*args, **options):
    """call_command("import_monographs"); the exit code is 0 unless it exited."""
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command(
            "import_monographs",
            *map(str, args),
            stdout=out,
            stderr=err,
            **options,
        )
    except SystemExit as exit_:
        code = exit_.code
    return Run(out.getvalue(), err.getvalue(), code)


def run_export(*args, **options):
    out = StringIO()
    call_command("export_monographs", *map(str, args), stdout=out, **options)
    return out.getvalue()


class TemporaryFolderMixin:
    """self.folder: a fresh temporary folder for each test."""

    def setUp(self):
        super().setUp()
        temporary = tempfile.TemporaryDirectory()
        self.addCleanup(temporary.cleanup)
        self.folder = Path(temporary.name)

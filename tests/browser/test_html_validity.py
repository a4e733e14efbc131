"""The Nu HTML Checker (vnu.jar, on the machine's Java) finds no errors in public pages."""

import json
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import BASE_DIR, unavailable
from tests.browser.pages import PUBLIC_PAGES, make_second_revision

VNU = BASE_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

pytestmark = pytest.mark.django_db(transaction=True)


def nu_errors(documents):
    """The Nu checker's errors in ``documents`` ({name: HTML bytes}), as
    "name.html:line: message" lines; skips the test (loudly) without Java or
    vnu.jar."""
    java = shutil.which("java")
    if java is None:
        unavailable("no Java; `make test` installs default-jre-headless.")
    if not VNU.exists():
        unavailable(f"vnu.jar is not installed at {VNU}; `make test` runs npm ci.")
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for name, html in documents.items():
            target = Path(folder) / f"{name.replace(' ', '-')}.html"
            target.write_bytes(html)
            files.append(str(target))
        result = subprocess.run(
            [java, "-jar", str(VNU), "--format", "json", "--exit-zero-always", *files],
            capture_output=True,
            text=True,
            timeout=300,
        )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [
        f"{Path(message.get('url', '')).name}:{message.get('lastLine')}: "
        f"{message['message']}"
        for message in messages
        if message["type"] == "error"
    ]


class HtmlValidityTests:
    def test_public_pages_have_no_errors(self, seeded, live_server):
        make_second_revision()
        documents = {}
        for name, path in PUBLIC_PAGES.items():
            with urllib.request.urlopen(f"{live_server.url}{path}") as response:
                documents[name] = response.read()
        errors = nu_errors(documents)
        assert errors == [], "\n".join(errors)

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


class HtmlValidityTests:
    def test_public_pages_have_no_errors(self, seeded, live_server):
        java = shutil.which("java")
        if java is None:
            unavailable("no Java; `make test` installs default-jre-headless.")
        if not VNU.exists():
            unavailable(f"vnu.jar is not installed at {VNU}; `make test` runs npm ci.")
        make_second_revision()
        with tempfile.TemporaryDirectory() as folder:
            files = []
            for name, path in PUBLIC_PAGES.items():
                with urllib.request.urlopen(f"{live_server.url}{path}") as response:
                    html = response.read()
                target = Path(folder) / f"{name}.html"
                target.write_bytes(html)
                files.append(str(target))
            result = subprocess.run(
                [
                    java,
                    "-jar",
                    str(VNU),
                    "--format",
                    "json",
                    "--exit-zero-always",
                    *files,
                ],
                capture_output=True,
                text=True,
                timeout=300,
            )
        messages = json.loads(result.stderr or result.stdout)["messages"]
        errors = [
            f"{Path(message.get('url', '')).name}:{message.get('lastLine')}: {message['message']}"
            for message in messages
            if message["type"] == "error"
        ]
        assert errors == [], "\n".join(errors)

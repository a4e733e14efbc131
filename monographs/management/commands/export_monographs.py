from django.core.management.base import BaseCommand

from monographs.exporter import export_path, monograph_markdown
from monographs.models import MagnesiumForm, Revision
from monographs.snapshots import snapshot


class Command(BaseCommand):
    help = (
        "Write each monograph as a Markdown file with front matter, in the layout "
        "import_monographs reads: <folder>/<letter>/<slug>.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")
        parser.add_argument(
            "--drafts",
            action="store_true",
            help="Export the latest revision of every monograph, not the published one.",
        )

    def handle(self, *args, folder, drafts, **options):
        forms = (
            MagnesiumForm.objects.all() if drafts else MagnesiumForm.objects.published()
        )
        written = 0
        for form in forms.select_related("published_revision"):
            revision = (
                Revision.objects.for_form(form.pk).order_by("-number").first()
                if drafts
                else form.published_revision
            )
            state = snapshot(revision)
            path = export_path(folder, state.form)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(monograph_markdown(state), encoding="utf-8")
            written += 1
            if options["verbosity"] > 1:
                self.stdout.write(f"{path}: revision {revision.number}")
        self.stdout.write(
            f"Wrote {written} file{'s' if written != 1 else ''} to {folder}."
        )

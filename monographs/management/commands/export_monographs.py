from django.core.management.base import BaseCommand

from monographs.documents import document_load
from monographs.exporter import export_path, monograph_markdown
from monographs.models import MagnesiumForm, Publication, Revision


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
        if drafts:
            revisions = [
                Revision.objects.with_document().latest_for(pk)
                for pk in MagnesiumForm.objects.values_list("pk", flat=True)
            ]
        else:
            revisions = [
                publication.revision
                for publication in Publication.objects.live().select_related("revision")
            ]
        written = 0
        for revision in revisions:
            state = document_load(revision)
            path = export_path(folder, state.form)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(monograph_markdown(state), encoding="utf-8")
            written += 1
            if options["verbosity"] > 1:
                self.stdout.write(f"{path}: revision {revision.number}")
        self.stdout.write(
            f"Wrote {written} file{'s' if written != 1 else ''} to {folder}."
        )

from django.core.management.base import BaseCommand

from monographs.services.rendering import revisions_render


class Command(BaseCommand):
    help = (
        "Record the rendered text of every published revision whose recording "
        "is missing or was made by another version of the Markdown renderer. "
        "Run after deploying: pages render live until it has."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="Render every published revision again, current or not.",
        )

    def handle(self, *args, all=False, **options):
        count = revisions_render(force=all)
        if options["verbosity"]:
            self.stdout.write(f"Rendered {count} revision(s).")

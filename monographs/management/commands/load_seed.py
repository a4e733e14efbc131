from django.core.management.base import BaseCommand

from monographs.services import seed_load


class Command(BaseCommand):
    help = "Load mgref's starting content. Creates only what is missing; never changes or approves what editors wrote."

    def handle(self, *args, **options):
        report = seed_load()
        self.stdout.write(
            f"Seed content: {report.created} created, {report.unchanged} already there."
        )
        for problem in report.skipped:
            self.stderr.write(f"Skipped: {problem}")

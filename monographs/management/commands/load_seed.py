from django.core.management.base import BaseCommand

from monographs.services import seed_load


class Command(BaseCommand):
    help = "Load mgref's starting content. Safe to run again: unchanged rows are left alone."

    def handle(self, *args, **options):
        counts = seed_load()
        self.stdout.write(
            f"Seed content: {counts.created} created, {counts.updated} updated, "
            f"{counts.unchanged} unchanged."
        )

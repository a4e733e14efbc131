from django.core.management.base import BaseCommand, CommandError

from monographs.backups import BackupError, backup


class Command(BaseCommand):
    help = (
        "Copy the whole database, history included, to PATH (safe while the site runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            written = backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Backed up the database to {written}.")

import sys

from django.core.management.base import BaseCommand, CommandError

from monographs.backups import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database's contents with the backup at PATH."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Do not ask before replacing the contents.",
        )

    def handle(self, *args, path, yes, **options):
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Pass --yes to restore without being asked.")
            answer = input(
                "This replaces everything in the database. Type 'yes' to go on: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        try:
            restore(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Restored the database from {path}.")

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from monographs.accounts import DEMO_ACCOUNTS, create_demo_accounts


class Command(BaseCommand):
    help = (
        "Create the demo editor, reviewer and admin accounts (DEBUG only) and print "
        "their passwords once."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Demo accounts are for local development: DJANGO_DEBUG is off."
            )
        created = create_demo_accounts()
        if not created:
            names = ", ".join(username for username, _ in DEMO_ACCOUNTS)
            self.stdout.write(
                f"Demo accounts already exist ({names}); passwords not shown again."
            )
            return
        self.stdout.write("Demo accounts (shown once, note them now):")
        for username, password in created:
            self.stdout.write(f"  {username:10} {password}")

from django.core.management.base import BaseCommand, CommandError

from monographs.caching import CACHE_ERRORS, shared_cache, stamp_reset


class Command(BaseCommand):
    help = (
        "Make every cached public page render again on its next request, by "
        "moving the version stamp the pages are cached under. Run it when the "
        "log says the stamp could not be moved after a change (the cache was "
        "unreachable), or after changing the database around mgref."
    )

    def handle(self, *args, **options):
        if not shared_cache():
            # Each process reads the stamp from the publications themselves.
            self.stdout.write(
                "Pages are cached per process, stamped from the database: "
                "nothing to do."
            )
            return
        try:
            stamp_reset()
        except CACHE_ERRORS as error:
            raise CommandError(f"The cache cannot be reached: {error}") from error
        if options["verbosity"]:
            self.stdout.write("Cached pages will render again.")

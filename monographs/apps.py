from django.apps import AppConfig


class MonographsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "monographs"
    verbose_name = "Monographs"

    def ready(self):
        from django.db.models.signals import post_save

        from monographs import checks  # noqa: F401  (registers the system checks)
        from monographs.caching import publication_saved
        from monographs.models import Publication

        # Every approval, deletion and recovery saves a Publication: each
        # moves the public pages' version stamp.
        post_save.connect(
            publication_saved, sender=Publication, dispatch_uid="mgref-stamp"
        )

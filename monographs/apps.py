from django.apps import AppConfig


class MonographsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "monographs"
    verbose_name = "Monographs"

    def ready(self):
        from monographs import checks  # noqa: F401  (registers the system checks)

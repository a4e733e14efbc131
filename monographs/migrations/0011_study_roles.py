import importlib

from django.db import migrations


def grant_study_permissions(apps, schema_editor):
    """Editors and reviewers edit studies as they do the other rows of a
    monograph (monographs.roles)."""
    importlib.import_module("monographs.migrations.0002_roles").create_roles(
        apps, schema_editor
    )


class Migration(migrations.Migration):
    dependencies = [("monographs", "0010_interaction_markdown")]

    operations = [
        migrations.RunPython(grant_study_permissions, migrations.RunPython.noop)
    ]

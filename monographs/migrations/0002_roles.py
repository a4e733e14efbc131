from django.contrib.auth.management import create_permissions
from django.db import migrations

# The role definitions are plain data, shared with monographs.roles.sync_roles;
# a change to them comes with a migration that calls this function again.
from monographs.roles import (
    EDITOR_PERMISSIONS,
    EDITORS,
    REVIEWER_PERMISSIONS,
    REVIEWERS,
)


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the
    # groups need them now.
    app_config = apps.get_app_config("monographs")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in [
        (EDITORS, EDITOR_PERMISSIONS),
        (REVIEWERS, REVIEWER_PERMISSIONS),
    ]:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="monographs", codename__in=codenames
            )
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[EDITORS, REVIEWERS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

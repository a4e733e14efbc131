from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_MODELS = [
    "citation",
    "magnesiumform",
    "synonym",
    "indication",
    "sideeffect",
    "evidence",
    "formsideeffect",
    "dose",
    "interaction",
    "precaution",
    "faq",
]
# Rows that only exist inside a monograph: editors remove them from the inline.
MONOGRAPH_ROWS = [
    "synonym",
    "evidence",
    "formsideeffect",
    "dose",
    "interaction",
    "precaution",
    "faq",
]


def editor_codenames():
    codenames = [
        f"{action}_{model}"
        for model in CONTENT_MODELS
        for action in ("view", "add", "change")
    ]
    codenames += [f"delete_{model}" for model in MONOGRAPH_ROWS]
    return codenames


def reviewer_codenames():
    return (
        editor_codenames()
        + [f"delete_{model}" for model in CONTENT_MODELS if model not in MONOGRAPH_ROWS]
        + ["publish_magnesiumform"]
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
        ("Editors", editor_codenames()),
        ("Reviewers", reviewer_codenames()),
    ]:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="monographs", codename__in=codenames
            )
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Editors", "Reviewers"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

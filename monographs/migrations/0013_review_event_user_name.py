"""Review events keep the public name of whoever took them, as publications
already do: an approval no person made (the seed, an import without a
reviewer) was shown as "approved by mgref", and an approval by an account
deleted later would have been too."""

from django.conf import settings
from django.db import migrations, models

# monographs.models.revisions.ANONYMOUS_STAFF_NAME when this was written.
ANONYMOUS_STAFF_NAME = "an mgref editor"


def name_events(apps, schema_editor):
    ReviewEvent = apps.get_model("monographs", "ReviewEvent")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    user_ids = set(
        ReviewEvent.objects.exclude(user=None).values_list("user_id", flat=True)
    )
    for user in User.objects.filter(pk__in=user_ids):
        # AbstractUser.get_full_name(): historical models have no methods.
        name = f"{user.first_name} {user.last_name}".strip() or ANONYMOUS_STAFF_NAME
        ReviewEvent.objects.filter(user_id=user.pk).update(user_name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0012_revision_json_through_orjson"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reviewevent",
            name="user_name",
            field=models.CharField(
                blank=True,
                help_text=(
                    "The public name of whoever took this step, as it was then "
                    "(kept if the account goes); empty when no person did, as "
                    "for the seed."
                ),
                max_length=150,
            ),
        ),
        migrations.RunPython(name_events, migrations.RunPython.noop),
    ]

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0002_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="revision",
            name="deleted",
            field=models.BooleanField(
                default=False, help_text="This revision deleted the monograph."
            ),
        ),
        migrations.AddField(
            model_name="revision",
            name="document",
            field=models.JSONField(
                default=dict,
                help_text="The whole monograph after this revision (monographs.documents); empty if it deleted the monograph.",
            ),
        ),
        migrations.AddField(
            model_name="revision",
            name="digest",
            field=models.CharField(
                blank=True,
                help_text="SHA-256 of the document: a save is compared with the latest revision by this alone.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="revision",
            name="author",
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AddField(
            model_name="revision",
            name="name",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="revision",
            name="slug",
            field=models.SlugField(blank=True, db_index=False, max_length=100),
        ),
        migrations.AlterField(
            model_name="reviewevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("submitted", "Submitted for review"),
                    ("approved", "Approved and published"),
                    ("changes-requested", "Changes requested"),
                    ("deleted", "Deleted and withdrawn from readers"),
                ],
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="Publication",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                ("slug", models.SlugField(db_index=False, max_length=100)),
                (
                    "approved_by_name",
                    models.CharField(
                        blank=True,
                        help_text="The approver's public name, as shown.",
                        max_length=150,
                    ),
                ),
                ("approved_at", models.DateTimeField()),
                ("withdrawn", models.BooleanField(default=False)),
                ("synonym_slugs", models.JSONField(blank=True, default=list)),
                (
                    "approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "form",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="publication",
                        to="monographs.magnesiumform",
                    ),
                ),
                (
                    "revision",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="monographs.revision",
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("withdrawn", False)),
                        fields=("slug",),
                        name="publication_slug_unique",
                        violation_error_message="Another published monograph has this address.",
                    )
                ],
            },
        ),
    ]

from django.db import migrations


class Migration(migrations.Migration):
    """Workflow state leaves the content row: publications and review events
    hold it now."""

    dependencies = [("monographs", "0004_build_documents")]

    operations = [
        migrations.RemoveField(model_name="magnesiumform", name="published_at"),
        migrations.RemoveField(model_name="magnesiumform", name="published_revision"),
        migrations.RemoveField(model_name="magnesiumform", name="published_slug"),
        migrations.RemoveField(model_name="magnesiumform", name="status"),
    ]

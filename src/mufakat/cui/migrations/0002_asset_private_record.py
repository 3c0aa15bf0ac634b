import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Uploaded routes become organisation-private records (core.PrivateRecord): the uploading
    organisation is the owner, keeping every row's value."""

    dependencies = [
        ("core", "0002_role_flags_module_grants"),
        ("cui", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(model_name="asset", old_name="uploaded_by_org", new_name="owner_org"),
        migrations.AlterField(
            model_name="asset",
            name="owner_org",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty for platform reference data",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.organisation",
                verbose_name="owner organisation",
            ),
        ),
        migrations.AddField(
            model_name="asset",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="created by",
            ),
        ),
    ]

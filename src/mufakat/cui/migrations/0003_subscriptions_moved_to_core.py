# Subscriptions moved to core (core.Subscription, any module's target kinds); cui keeps only
# its "asset" kind. Rows are copied before the cui table is dropped.

from django.db import migrations


def copy_to_core(apps, schema_editor):
    Old = apps.get_model("cui", "Subscription")
    New = apps.get_model("core", "Subscription")
    for s in Old.objects.all().order_by("pk"):
        target = str(s.asset_id) if s.kind == "asset" else s.state if s.kind == "state" else ""
        copied = New.objects.create(
            user_id=s.user_id,
            kind=s.kind,
            target_id=target or "",
            min_lon=s.min_lon,
            min_lat=s.min_lat,
            max_lon=s.max_lon,
            max_lat=s.max_lat,
            lat=s.lat,
            lon=s.lon,
            radius_km=s.radius_km,
        )
        # auto_now_add stamped the copy now; keep when the user subscribed.
        New.objects.filter(pk=copied.pk).update(created=s.created)


def copy_back(apps, schema_editor):
    Old = apps.get_model("cui", "Subscription")
    New = apps.get_model("core", "Subscription")
    Asset = apps.get_model("cui", "Asset")
    for s in New.objects.filter(kind__in=["asset", "state", "area"]).order_by("pk"):
        asset_id = int(s.target_id) if s.kind == "asset" and s.target_id.isdigit() else None
        if s.kind == "asset" and not Asset.objects.filter(pk=asset_id).exists():
            continue
        old = Old.objects.create(
            user_id=s.user_id,
            kind=s.kind,
            asset_id=asset_id,
            state=s.target_id if s.kind == "state" else "",
            min_lon=s.min_lon,
            min_lat=s.min_lat,
            max_lon=s.max_lon,
            max_lat=s.max_lat,
            lat=s.lat,
            lon=s.lon,
            radius_km=s.radius_km,
        )
        Old.objects.filter(pk=old.pk).update(created=s.created)
    New.objects.filter(kind__in=["asset", "state", "area"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("cui", "0002_asset_private_record"),
        ("core", "0006_alert_threads_subscriptions_mutes"),
    ]

    operations = [
        migrations.RunPython(copy_to_core, copy_back),
        migrations.DeleteModel(name="Subscription"),
    ]

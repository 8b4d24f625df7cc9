"""Fewer indexes to maintain on every hub record written (bench_hub): the conversation lookups
get one (tenant, conversation) btree, which also serves lookups by tenant alone, in place of
three single-column indexes; and the varchar_pattern_ops twins that PostgreSQL gets for the
text primary key and the conversation id go, since no query matches them with LIKE 'x%'."""

import django.db.models.deletion
from django.db import migrations, models


def drop_primary_key_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # only PostgreSQL has them
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'telemetry_hubrecord' "
            "AND indexdef LIKE '%%(id varchar_pattern_ops)%%'"
        )
        for (name,) in cursor.fetchall():
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("claresia", "0001_initial"),
        ("skills", "0003_publication_drift"),
        ("telemetry", "0004_dashboard_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="hubrecord",
            name="openai_conversation_id",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="hubrecord",
            name="tenant",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="hub_records",
                to="claresia.tenant",
            ),
        ),
        migrations.AddIndex(
            model_name="hubrecord",
            index=models.Index(
                fields=["tenant", "openai_conversation_id"], name="hub_record_conversation"
            ),
        ),
        # Reversing leaves it dropped: nothing reads it.
        migrations.RunPython(drop_primary_key_pattern_index, migrations.RunPython.noop),
    ]

# The dashboard's covering index (replaces telemetry_tenant_time, whose keys it has) and
# the View record page's lookup by conversation.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('claresia', '0001_initial'),
        ('skills', '0003_publication_drift'),
        ('telemetry', '0003_poll_reconciled_until'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='telemetryevent',
            index=models.Index(fields=['tenant', 'occurred_at'], include=('event_type', 'skill_ref', 'cost_usd', 'latency_ms', 'error_code'), name='telemetry_tenant_time_cover'),
        ),
        migrations.AddIndex(
            model_name='telemetryevent',
            index=models.Index(condition=models.Q(('conversation_id', ''), _negated=True), fields=['tenant', 'conversation_id'], name='telemetry_tenant_conversation'),
        ),
        # After the covering index exists, so tenant lookups are never left without one.
        migrations.RemoveIndex(
            model_name='telemetryevent',
            name='telemetry_tenant_time',
        ),
    ]

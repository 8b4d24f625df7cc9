"""Field labels in the admin are words a customer's staff reads, not column names."""

import pytest
from django.apps import apps


@pytest.mark.parametrize(
    ("model", "field", "label"),
    [
        ("telemetry.HubRecord", "openai_conversation_id", "OpenAI conversation id"),
        ("telemetry.HubRecord", "openai_ephemeral_user_id", "OpenAI ephemeral user id"),
        ("telemetry.HubRecord", "openai_gpt_id", "OpenAI GPT id"),
        ("telemetry.HubRecord", "latency_ms", "latency (ms)"),
        ("telemetry.GovernanceEvent", "openai_conversation_id", "OpenAI conversation id"),
        ("telemetry.GovernanceEvent", "dedupe_key", "what makes the event one of a kind"),
        ("telemetry.TelemetryEvent", "latency_ms", "latency (ms)"),
    ],
)
def test_labels_say_what_the_field_is(model, field, label):
    assert apps.get_model(model)._meta.get_field(field).verbose_name == label

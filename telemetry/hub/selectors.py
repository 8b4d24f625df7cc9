"""Reads of hub records for people (the API's reads are in services, keyed by token)."""

from django.contrib.auth.base_user import AbstractBaseUser

from claresia.scoping import scope_to_user
from telemetry.hub.models import HubRecord, is_record_id
from telemetry.models import TelemetryEvent


def hub_record_for_user(*, user: AbstractBaseUser, record_id: str) -> HubRecord | None:
    """The record if `user` is staff of its tenant or a superuser, else None."""
    if not is_record_id(record_id) or not (user.is_active and (user.is_staff or user.is_superuser)):
        return None
    records = scope_to_user(HubRecord.objects.select_related("tenant", "skill"), user)
    return records.filter(pk=record_id).first()


def hub_record_by_id(*, record_id: str) -> HubRecord | None:
    """The record with this id, whoever asks: only for a caller that proved it may see it (the
    footer's signed link, telemetry/hub/links.py)."""
    if not is_record_id(record_id):
        return None
    return HubRecord.objects.select_related("tenant", "skill").filter(pk=record_id).first()


def telemetry_events_for_record(*, record: HubRecord):
    """The audit events of the record's conversation, same tenant only, oldest first."""
    if not record.openai_conversation_id:
        return TelemetryEvent.objects.none()
    return TelemetryEvent.objects.filter(
        tenant_id=record.tenant_id, conversation_id=record.openai_conversation_id
    ).order_by("occurred_at", "id")

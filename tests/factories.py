"""Rows and constants the tests of every app build on. Fixtures that use them live in
`tests/conftest.py`; a package's own helpers in its `helpers.py`. No test imports a conftest."""

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from claresia.models import TenantMembership
from skills.models import Skill

COMPLIANCE_KEY = "sk-compliance-test-key-7f3a"


def make_user(username: str, *, superuser: bool = False, tenants=(), role="admin"):
    user = get_user_model().objects.create_user(
        username=username, is_staff=True, is_superuser=superuser
    )
    for tenant in tenants:
        TenantMembership.objects.create(user=user, tenant=tenant, role=role)
    return user


def make_skill(tenant, skill_id="incident-postmortem", name="Incident Postmortem") -> Skill:
    return Skill.objects.create(
        tenant=tenant,
        skill_id=skill_id,
        name=name,
        version="1.0.0",
        description="Writes a postmortem.",
        ir={"id": skill_id, "name": name, "instructions": "Write a blameless postmortem. " * 20},
    )


def admin_history(obj) -> list[tuple[str, int, str]]:
    """`obj`'s admin history, oldest first: (username, action flag, message) per entry."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).order_by("action_time", "pk")
    return [(e.user.username, e.action_flag, e.get_change_message()) for e in entries]


def admin_history_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_history", args=[obj.pk])

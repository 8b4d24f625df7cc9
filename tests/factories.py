"""Rows and constants the tests of every app build on. Fixtures that use them live in
`tests/conftest.py`; a package's own helpers in its `helpers.py`. No test imports a conftest."""

from django.contrib.auth import get_user_model

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

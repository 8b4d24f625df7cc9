import pytest
from rest_framework.test import APIClient

from skills.models import Skill
from telemetry.hub.services import hub_token_issue


def make_skill(tenant, skill_id="incident-postmortem", name="Incident Postmortem") -> Skill:
    return Skill.objects.create(
        tenant=tenant,
        skill_id=skill_id,
        name=name,
        version="1.0.0",
        description="Writes a postmortem.",
        ir={"id": skill_id, "name": name, "instructions": "Write a blameless postmortem. " * 20},
    )


@pytest.fixture
def skill(tenant):
    return make_skill(tenant)


@pytest.fixture
def other_skill(other_tenant):
    """Another tenant's skill, with a different id and display name."""
    return make_skill(other_tenant, skill_id="quarterly-review", name="Quarterly Review")


@pytest.fixture
def issued(tenant):
    return hub_token_issue(tenant=tenant)


@pytest.fixture
def other_issued(other_tenant):
    return hub_token_issue(tenant=other_tenant)


@pytest.fixture
def hub(issued):
    """An API client authenticated with the `dainese` tenant's hub token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    return client


@pytest.fixture
def other_hub(other_issued):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_issued.plaintext}")
    return client


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the shared cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

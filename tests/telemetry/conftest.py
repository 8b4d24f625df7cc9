"""Hub tokens and hub API clients for the telemetry tests; each test starts with an empty cache."""

import pytest
from rest_framework.test import APIClient

from telemetry.hub.services import hub_token_issue


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

"""Shared fixtures: tenants, users, skills, and the OpenAI sandbox served over real HTTP on
loopback. The rows they build come from `tests/factories.py`."""

import os

import pytest
from hypothesis import settings as hypothesis_settings

from claresia.models import Tenant
from connectors.models import Connector
from connectors.openai import client as openai_client
from connectors.sandbox.server import start_sandbox
from connectors.services import connector_connect
from tests.factories import COMPLIANCE_KEY, make_skill, make_user

# CI runs the property tests on a fixed seed, so that a landing never hangs on a new random
# example; locally they explore (and a failure prints the example to pin).
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    """OpenAI's retry policy, with backoff short enough for a test suite."""
    monkeypatch.setattr(
        openai_client,
        "DEFAULT_RETRY",
        openai_client.RetryPolicy(initial_backoff=0.01, max_backoff=0.05),
    )


@pytest.fixture(autouse=True)
def pacing_per_client(monkeypatch):
    """Each ChatGPT admin client paces itself: a test's requests never wait on a window another
    test filled in the shared Redis. The shared pacer's own tests (tests/connectors/
    test_pacing.py) turn it back on. Not the `settings` fixture: set up this early, it would be
    undone after the fixtures that clean the cache, while a test's cache settings still hold."""
    from django.conf import settings as django_settings

    monkeypatch.setattr(django_settings, "CHATGPT_ADMIN_PACING_REDIS_URL", "")


@pytest.fixture(autouse=True, scope="session")
def no_real_compliance_host():
    """No test reaches api.chatgpt.com: nothing listens on port 9 of loopback (the `sandbox`
    fixture points the host at the sandbox instead). Session-wide and without the `settings`
    fixture, so that no test's own settings changes are undone later than it expects."""
    from django.conf import settings as django_settings

    django_settings.CHATGPT_ADMIN_API_BASE = "http://127.0.0.1:9/v1"


@pytest.fixture(scope="session")
def _sandbox_server():
    running = start_sandbox()
    yield running
    running.stop()


@pytest.fixture
def sandbox(_sandbox_server, settings):
    """A fresh OpenAI sandbox, with OPENAI_API_BASE and CHATGPT_ADMIN_API_BASE pointing at it
    (and its signed URLs, plain http on loopback, allowed to be followed)."""
    _sandbox_server.state.reset()
    settings.OPENAI_API_BASE = _sandbox_server.api_base
    settings.CHATGPT_ADMIN_API_BASE = _sandbox_server.api_base
    settings.LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP = True
    return _sandbox_server


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(slug="dainese", name="Dainese")


@pytest.fixture
def other_tenant(db):
    return Tenant.objects.create(slug="othercorp", name="Other Corp")


@pytest.fixture
def connector(tenant) -> Connector:
    return connector_connect(tenant=tenant, organization_id="org-dainese", api_key=COMPLIANCE_KEY)


@pytest.fixture
def superuser(db):
    return make_user("root-admin", superuser=True)


@pytest.fixture
def staff(tenant):
    """Staff of the tenant `dainese` only."""
    return make_user("dainese-staff", tenants=[tenant])


@pytest.fixture
def skill(tenant):
    """`dainese`'s skill `incident-postmortem`, as a row (not imported from an IR folder)."""
    return make_skill(tenant)


@pytest.fixture
def other_skill(other_tenant):
    """Another tenant's skill, with a different id and display name."""
    return make_skill(other_tenant, skill_id="quarterly-review", name="Quarterly Review")

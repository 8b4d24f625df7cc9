"""Shared fixtures: tenants, users, and the OpenAI sandbox served over real HTTP on loopback."""

import os

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from hypothesis import settings as hypothesis_settings

from claresia.models import Tenant, TenantMembership
from connectors.models import Connector
from connectors.openai import client as openai_client
from connectors.sandbox.server import start_sandbox
from connectors.services import connector_connect

COMPLIANCE_KEY = "sk-compliance-test-key-7f3a"

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


@pytest.fixture(scope="session")
def _sandbox_server():
    running = start_sandbox()
    yield running
    running.stop()


@pytest.fixture
def sandbox(_sandbox_server, settings):
    """A fresh OpenAI sandbox, with OPENAI_API_BASE pointing at it."""
    _sandbox_server.state.reset()
    settings.OPENAI_API_BASE = _sandbox_server.api_base
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


def make_user(username: str, *, superuser: bool = False, tenants=(), role="admin"):
    user = get_user_model().objects.create_user(
        username=username, is_staff=True, is_superuser=superuser
    )
    for tenant in tenants:
        TenantMembership.objects.create(user=user, tenant=tenant, role=role)
    return user


@pytest.fixture
def superuser(db):
    return make_user("root-admin", superuser=True)


@pytest.fixture
def staff(tenant):
    """Staff of the tenant `dainese` only."""
    return make_user("dainese-staff", tenants=[tenant])


def admin_history(obj) -> list[tuple[str, int, str]]:
    """`obj`'s admin history, oldest first: (username, action flag, message) per entry."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).order_by("action_time", "pk")
    return [(e.user.username, e.action_flag, e.get_change_message()) for e in entries]


def admin_history_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_history", args=[obj.pk])

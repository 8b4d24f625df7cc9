"""`make run`'s demo tenant: Dainese, connected to the sandbox, with a staff login."""

import io

import pytest
from django.core.management import call_command

from claresia.models import TenantMembership
from connectors.models import Connector
from demo.loader import demo_load, demo_skills_publish
from skills.models import Publication
from skills.targets.custom_gpt.workspace_drift import skills_workspace_check


@pytest.mark.integration
def test_load_demo_connects_dainese_to_the_sandbox_and_prints_the_logins(db, sandbox):
    # when
    out = io.StringIO()
    call_command("load_demo", "--password", "demo-pass-123", stdout=out)
    call_command("load_demo", "--password", "demo-pass-123", stdout=io.StringIO())  # again: safe

    # then
    connector = Connector.objects.get(tenant__slug="dainese")
    assert connector.status == Connector.Status.CONNECTED
    assert TenantMembership.objects.filter(tenant__slug="dainese", user__username="dainese-staff")
    assert "dainese-staff / demo-pass-123" in out.getvalue()
    assert connector.api_key not in out.getvalue()


@pytest.mark.integration
def test_load_demo_prints_the_port_the_demo_runs_on(db, sandbox):
    out = io.StringIO()
    call_command(
        "load_demo", "--password", "p-123456789", "--url", "http://127.0.0.1:8123", stdout=out
    )
    assert "Claresia is at http://127.0.0.1:8123/admin/" in out.getvalue()


def test_the_traffic_simulator_finds_the_sandbox_on_sandbox_port(monkeypatch):
    # given
    from demo.management.commands.demo_traffic import Command

    monkeypatch.setenv("SANDBOX_PORT", "8799")

    # when
    options = Command().create_parser("manage.py", "demo_traffic").parse_args([])

    # then
    assert options.sandbox_url == "http://127.0.0.1:8799"


def test_the_import_form_preselects_the_users_only_tenant(client, tenant, staff, other_tenant):
    client.force_login(staff)
    page = client.get("/admin/skills/skill/import/").content.decode()
    assert f'<option value="{tenant.pk}" selected>' in page


@pytest.mark.integration
def test_the_demo_gpts_config_is_dated_from_their_publish(db, sandbox):
    # given
    tenant, _ = demo_load(password="p-123456789")
    demo_skills_publish(tenant)

    # when
    lines = skills_workspace_check(tenant=tenant)

    # then: "Config changed" is never before the publish it came from
    published = {
        p.skill.skill_id: p.published_at
        for p in Publication.objects.filter(skill__tenant=tenant).select_related("skill")
    }
    for line in lines:
        assert line.config_changed_at is not None
        assert abs((line.config_changed_at - published[line.skill_id]).total_seconds()) < 1


@pytest.mark.integration
def test_the_demo_logins_have_a_password_each(db, sandbox):
    # when
    _, logins = demo_load()

    # then
    assert logins.staff_password != logins.superuser_password

"""create_tenant, create_archetype, connect_openai and test_connection: exit codes and messages;
and the one answer every command gives to an unknown tenant."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from claresia.models import ArchetypeGroup, Tenant
from connectors.models import Connector
from tests.factories import COMPLIANCE_KEY

ROOT = Path(__file__).resolve().parents[2]


def run(*args, stdin=None):
    out = io.StringIO()
    if stdin is not None:
        old, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
    finally:
        if stdin is not None:
            sys.stdin = old
    return out.getvalue()


def connect_openai(*key_source, org_id="org-dainese", stdin=None):
    """connect_openai for `dainese`, the key from `--api-key-file FILE` or `--api-key-stdin`."""
    return run(
        "connect_openai", "--tenant", "dainese", "--org-id", org_id, *key_source, stdin=stdin
    )


def test_create_tenant_makes_a_tenant(db):
    # when
    out = run("create_tenant", "acme-eu", "--name", "Acme EU")

    # then
    assert Tenant.objects.get(slug="acme-eu").name == "Acme EU"
    assert "created tenant acme-eu" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Acme", "--name", "A"], "slug: Use lowercase letters"),
        (["acme--eu", "--name", "A"], "slug: Use lowercase letters"),
        (["acme", "--name", "A", "--mode", "C"], "hub_base_url: Mode C tenants run their own hub"),
        (
            ["acme", "--name", "A", "--mode", "C", "--hub-base-url", "http://hub.acme.example"],
            "hub_base_url: Enter an https:// URL",
        ),
    ],
)
def test_create_tenant_refuses_bad_input_and_saves_nothing(db, args, message):
    # when
    with pytest.raises(CommandError) as raised:
        run("create_tenant", *args)

    # then
    assert message in str(raised.value)
    assert not Tenant.objects.exists()


def test_a_mode_c_tenants_gpts_call_its_own_hub(db):
    # when
    run(
        "create_tenant",
        "acme",
        "--name",
        "Acme",
        "--mode",
        "C",
        "--hub-base-url",
        "https://hub.acme.example/",
    )

    # then
    assert Tenant.objects.get(slug="acme").hub_base == "https://hub.acme.example"


def test_create_archetype_maps_a_workspace_group(tenant):
    # when
    run("create_archetype", "--tenant", "dainese", "sre", "--name", "SRE", "--group-id", "grp_sre")

    # then
    assert ArchetypeGroup.objects.get(tenant=tenant, slug="sre").workspace_group_id == "grp_sre"


def test_create_archetype_for_an_unknown_tenant_says_so(db):
    with pytest.raises(CommandError, match="no tenant with slug 'ghost'"):
        run("create_archetype", "--tenant", "ghost", "sre", "--name", "SRE")


@pytest.mark.parametrize(
    "args",
    [
        ["create_archetype", "--tenant", "ghost", "sre", "--name", "SRE"],
        ["connect_openai", "--tenant", "ghost", "--org-id", "org-x", "--api-key-stdin"],
        ["test_connection", "--tenant", "ghost"],
        ["import_skills", "--tenant", "ghost", "skills"],
        ["publish_skills", "--tenant", "ghost"],
        ["export_bundles", "--tenant", "ghost", "--out", "bundles"],
        ["import_audit_export", "--tenant", "ghost", "export.csv"],
        ["issue_hub_token", "--tenant", "ghost"],
        ["poll_telemetry", "--tenant", "ghost", "--once"],
    ],
    ids=lambda args: args[0],
)
def test_every_command_answers_an_unknown_tenant_in_the_same_words(db, args):
    with pytest.raises(CommandError) as raised:
        run(*args, stdin=COMPLIANCE_KEY + "\n")
    assert str(raised.value) == "no tenant with slug 'ghost': create it with create_tenant first"


def test_connect_openai_reads_the_key_from_a_file(tenant, tmp_path):
    # given
    key_file = tmp_path / "key.txt"
    key_file.write_text(COMPLIANCE_KEY + "\n")

    # when
    out = connect_openai("--api-key-file", str(key_file))

    # then
    assert Connector.objects.get(tenant=tenant).api_key == COMPLIANCE_KEY
    assert "…7f3a" in out
    assert COMPLIANCE_KEY not in out


def test_connect_openai_reads_the_key_from_stdin(tenant):
    # when
    connect_openai("--api-key-stdin", stdin=COMPLIANCE_KEY + "\n")

    # then
    assert Connector.objects.get(tenant=tenant).api_key == COMPLIANCE_KEY


def test_connect_openai_with_an_empty_key_saves_nothing(tenant):
    with pytest.raises(CommandError, match="api_key: Paste the Compliance API key: it is empty"):
        connect_openai("--api-key-stdin", stdin="\n")
    assert not Connector.objects.exists()


def test_connect_openai_with_a_bad_org_id_saves_nothing(tenant, tmp_path):
    key_file = tmp_path / "key.txt"
    key_file.write_text(COMPLIANCE_KEY)
    with pytest.raises(
        CommandError, match="organization_id: An OpenAI organization id looks like org-"
    ):
        connect_openai("--api-key-file", str(key_file), org_id="dainese")
    assert not Connector.objects.exists()


def test_connect_openai_with_a_missing_key_file_exits_2(tenant, tmp_path):
    # when
    with pytest.raises(CommandError) as raised:
        connect_openai("--api-key-file", str(tmp_path / "nope"))

    # then
    assert raised.value.returncode == 2
    assert "cannot read the key file" in str(raised.value)


@pytest.mark.integration
def test_test_connection_exits_0_when_connected(sandbox, connector):
    assert "connected: tenant dainese" in run("test_connection", "--tenant", "dainese")


@pytest.mark.integration
def test_test_connection_fails_with_the_user_facing_reason(sandbox, tenant):
    # given
    from connectors.services import connector_connect

    # a revoked key: neither the seed's audit log nor the Logs Platform answers
    connector_connect(tenant=tenant, organization_id="org-dainese", api_key="sk-admin-revoked")

    # when / then
    with pytest.raises(CommandError, match="not valid"):
        run("test_connection", "--tenant", "dainese")


def test_test_connection_without_a_connector_says_what_to_do(tenant):
    with pytest.raises(CommandError, match="run connect_openai first"):
        run("test_connection", "--tenant", "dainese")


def test_a_command_error_is_one_line_on_stderr_without_traceback():
    # when: a real process, as an operator would run it (no database needed for this error)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "connect_openai",
            "--tenant",
            "x",
            "--org-id",
            "org-x",
            "--api-key-file",
            "/nonexistent/key",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DEBUG": "true"},
    )

    # then
    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr

"""The Compliance key is write-only: no page, log line, history entry or database dump holds it."""

import io
import logging
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from connectors.models import Connector

RAW_KEY = "sk-compliance-LEAKCANARY-5f9e2d"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_raw_key_is_nowhere_after_connecting_and_testing(
    client, staff, tenant, sandbox, caplog, tmp_path
):
    # given: a connector made through the admin and tested, with every logger at DEBUG
    caplog.set_level(logging.DEBUG)
    client.force_login(staff)
    client.post(
        reverse("admin:connectors_connector_add"),
        {
            "tenant": tenant.pk,
            "provider": "openai-chatgpt-enterprise",
            "organization_id": "org-dainese",
            "api_key": RAW_KEY,
            "publish_mode": "automated",
        },
    )
    connector = Connector.objects.get(tenant=tenant)
    client.post(reverse("admin:connectors_connector_test_connection", args=[connector.pk]))
    key_file = tmp_path / "key"
    key_file.write_text(RAW_KEY)
    out = io.StringIO()
    call_command(
        "connect_openai",
        tenant="dainese",
        org_id="org-dainese",
        api_key_file=str(key_file),
        stdout=out,
    )
    call_command("test_connection", tenant="dainese", stdout=out)

    # when: everything a person or an operator could look at is gathered
    pages = [
        reverse("admin:connectors_connector_changelist"),
        reverse("admin:connectors_connector_change", args=[connector.pk]),
        reverse("admin:connectors_connector_history", args=[connector.pk]),
        reverse("admin:claresia_tenant_change", args=[tenant.pk]),
        reverse("admin:index"),
    ]
    rendered = "".join(client.get(url).content.decode() for url in pages)
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    seen = [rendered, caplog.text, out.getvalue(), dump.getvalue()]
    if shutil.which("pg_dump") and connection.vendor == "postgresql":
        db = connection.settings_dict
        seen.append(
            subprocess.run(
                [
                    "pg_dump",
                    "-h",
                    db["HOST"] or "127.0.0.1",
                    "-p",
                    str(db["PORT"] or 5432),
                    "-U",
                    db["USER"] or "postgres",
                    db["NAME"],
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )

    # then
    assert "…9e2d" in rendered  # the masked form is what is shown
    for text in seen:
        assert RAW_KEY not in text
        assert "LEAKCANARY" not in text

"""Production's static files (README, "Running in production"): `collectstatic` with `DEBUG` off
writes the manifest-hashed files, and every kind of page renders with that manifest — a page
naming a file the manifest lacks is a 500 in production only, never in the DEBUG test run."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet

from telemetry.app_connection.services import mcp_client_register
from telemetry.hub.services import hub_record_emit
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def production_env(static_root: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    return {
        **base,
        "DEBUG": "false",
        "SECRET_KEY": Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "claresia.example",
        "STATIC_ROOT": str(static_root),
    }


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """README's step, as written: `manage.py collectstatic --noinput` with DEBUG off."""
    static_root = tmp_path_factory.mktemp("static")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=production_env(static_root),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return static_root


@pytest.fixture
def production_static(collected, settings):
    """This process serves and names static files as production does: from the collected
    folder, through the manifest, without the finders."""
    settings.STATIC_ROOT = collected
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": MANIFEST_STORAGE},
    }
    settings.WHITENOISE_USE_FINDERS = False
    return collected


def test_collectstatic_writes_the_manifest_with_debug_off(collected):
    # then: the manifest storage ran (hashed names), Chart.js and the admin's CSS among them
    manifest = (collected / "staticfiles.json").read_text()
    assert "vendor/chartjs/chart.umd.min.js" in manifest
    assert "admin/css/base.css" in manifest


def test_the_admin_login_page_and_its_stylesheet_are_served_with_the_manifest(
    client, db, production_static
):
    # when
    response = client.get("/admin/login/")

    # then: 200, naming the hashed stylesheet, which is served
    assert response.status_code == 200
    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', response.text)
    assert stylesheet, "the login page does not name the hashed admin/css/base.css"
    assert client.get(stylesheet.group(1)).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/telemetry/mcpclient/",
        "/command-center/",
        "/command-center/telemetry/",
        "/command-center/records/",
        "/command-center/distribution/",
        "/command-center/distribution/plugin/",
    ],
)
def test_staff_pages_answer_200_with_the_manifest(client, tenant, production_static, path):
    # given
    client.force_login(make_user("root", superuser=True, tenants=[tenant]))

    # when
    response = client.get(path)

    # then
    assert response.status_code == 200


def test_the_record_page_answers_200_with_the_manifest(client, tenant, skill, production_static):
    # given
    record = hub_record_emit(tenant=tenant, skill_id=skill.skill_id, output="**Done.**").record
    client.force_login(make_user("reader", tenants=[tenant]))

    # when
    response = client.get(f"/hub/records/{record.id}")

    # then
    assert response.status_code == 200


def test_the_approval_page_and_its_answer_render_with_the_manifest(
    client, tenant, production_static
):
    # given
    redirect_uri = "https://chatgpt.com/connector_platform_oauth_redirect"
    application = mcp_client_register(client_name="ChatGPT", redirect_uris=[redirect_uri])
    client.force_login(make_user("approver", tenants=[tenant]))
    query = urlencode(
        {
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "state": "s",
        }
    )

    # when
    response = client.get(f"/oauth/authorize/?{query}")

    # then
    assert response.status_code == 200
    assert "Approve" in response.text

    # when: Approve
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.text))
    answer = client.post(
        f"/oauth/authorize/?{query}", {**fields, "tenant": tenant.pk, "allow": "on"}
    )

    # then: the page that navigates on to the callback renders too
    assert answer.status_code == 200
    assert 'http-equiv="refresh"' in answer.text

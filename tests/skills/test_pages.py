"""Command Center pages of skills (Distribution, export, publish progress): what they show, and
that each is tenant-scoped. The skills admin's own pages are tested in `admin/`."""

import io
import zipfile

import pytest

from skills.models import PublishRun
from tests.factories import make_user

EXPORT = "/command-center/distribution/openai/export/"
DOWNLOAD = "/command-center/distribution/openai/export/download"


# ---- Command Center -----------------------------------------------------------------------


def test_command_center_requires_login(client, db):
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", ["/command-center/", "/command-center/distribution/", EXPORT])
def test_staff_see_their_tenant_skills_only(client, staff, imported_skill, other_skill, url):
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200
    assert b"Dainese" in response.content
    assert b"Other Corp" not in response.content


def test_export_page_lists_the_skill_with_its_bundle(client, staff, imported_skill):
    client.force_login(staff)
    response = client.get(EXPORT)
    assert b"claresia-dainese-incident-postmortem" in response.content
    assert b"Download ZIP + manifest.csv" in response.content


def test_staff_cannot_open_another_tenant_by_slug(client, staff, other_skill):
    client.force_login(staff)
    assert client.get(EXPORT + "?tenant=othercorp").status_code == 404
    assert client.get(DOWNLOAD + "?tenant=othercorp").status_code == 404


def test_a_user_with_no_tenant_is_refused(client, db):
    client.force_login(make_user("lonely"))
    assert client.get(EXPORT).status_code == 403


def test_download_returns_one_archive_with_the_zips_and_manifest(client, staff, imported_skill):
    client.force_login(staff)
    response = client.get(DOWNLOAD + "?tenant=dainese&skill=incident-postmortem")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="claresia-dainese-gpt-export.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["claresia-dainese-incident-postmortem.zip", "manifest.csv"]


def test_superuser_can_switch_tenants(client, superuser, imported_skill, other_skill):
    client.force_login(superuser)
    response = client.get(EXPORT + "?tenant=othercorp")
    assert b"claresia-othercorp-incident-postmortem" in response.content


def test_publish_progress_of_another_tenant_is_not_found(client, staff, other_tenant):
    run = PublishRun.objects.create(tenant=other_tenant, skill_ids=[], total=0)
    client.force_login(staff)
    assert client.get(f"/command-center/distribution/openai/publish/{run.pk}/").status_code == 404


def test_publish_progress_shows_done_failed_remaining(client, staff, tenant):
    run = PublishRun.objects.create(
        tenant=tenant,
        skill_ids=["a", "b", "c"],
        total=3,
        done=1,
        failed=1,
        status="running",
        results=[{"skill_id": "b", "outcome": "failed", "detail": "boom"}],
    )
    client.force_login(staff)
    response = client.get(f"/command-center/distribution/openai/publish/{run.pk}/?format=json")
    assert response.json() == {
        "status": "running",
        "total": 3,
        "done": 1,
        "failed": 1,
        "remaining": 1,
        "error": "",
    }
    page = client.get(f"/command-center/distribution/openai/publish/{run.pk}/")
    assert b'http-equiv="refresh"' in page.content
    assert b"boom" in page.content


def test_viewer_cannot_start_a_publish(client, tenant, imported_skill):
    viewer = make_user("viewer", tenants=[tenant], role="viewer")
    client.force_login(viewer)
    response = client.post("/command-center/distribution/openai/publish/", {"tenant": "dainese"})
    assert response.status_code == 403
    assert not PublishRun.objects.exists()


@pytest.mark.integration
def test_publish_all_from_distribution_runs_and_redirects_to_progress(
    client, staff, sandbox, connector, imported_skill, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/command-center/distribution/openai/publish/", {"tenant": "dainese"}
        )
    run = PublishRun.objects.get()
    assert response["Location"] == f"/command-center/distribution/openai/publish/{run.pk}/"
    run.refresh_from_db()
    assert (run.status, run.done) == ("finished", 1)
    page = client.get(response["Location"]).content.decode()
    assert "Publish of 1 skill: finished" in page and "Publishing" not in page
    assert 'href="/command-center/distribution/?tenant=dainese">Back to Distribution' in page

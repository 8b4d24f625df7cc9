"""Command Center pages and the skills admin: what they show, and that each is tenant-scoped."""

import io
import zipfile

import pytest
import yaml

from skills.models import PublishRun, Skill
from tests.factories import make_user
from tests.skills.helpers import minimal_ir, zip_bytes

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


# ---- admin --------------------------------------------------------------------------------


def test_admin_skill_list_is_scoped_to_the_staff_tenant(client, staff, imported_skill, other_skill):
    client.force_login(staff)
    response = client.get("/admin/skills/skill/")
    assert response.status_code == 200
    assert [s.tenant.slug for s in response.context["cl"].result_list] == ["dainese"]


def test_admin_bundle_view_shows_the_config_read_only(client, staff, imported_skill):
    client.force_login(staff)
    response = client.get(f"/admin/skills/skill/{imported_skill.pk}/bundle/")
    assert response.status_code == 200
    assert b"claresia-dainese-incident-postmortem" in response.content
    assert b"<form" not in response.content.split(b'id="content"')[-1]


def test_admin_bundle_view_of_another_tenant_is_not_found(client, staff, other_skill):
    client.force_login(staff)
    assert client.get(f"/admin/skills/skill/{other_skill.pk}/bundle/").status_code == 404


def test_admin_upload_imports_a_zip(client, staff, tenant):
    client.force_login(staff)
    upload = io.BytesIO(zip_bytes({"prd/skill.yaml": yaml.safe_dump(minimal_ir())}))
    upload.name = "skills.zip"
    response = client.post("/admin/skills/skill/import/", {"tenant": tenant.pk, "file": upload})
    assert response.status_code == 302
    assert Skill.objects.filter(tenant=tenant, skill_id="prd-review").exists()


def test_admin_upload_lists_every_problem_and_imports_nothing(client, staff, tenant):
    client.force_login(staff)
    upload = io.BytesIO(yaml.safe_dump(minimal_ir(version="x", name="")).encode())
    upload.name = "bad.yaml"
    response = client.post("/admin/skills/skill/import/", {"tenant": tenant.pk, "file": upload})
    assert response.status_code == 200
    assert b"name: must not be empty" in response.content
    assert b"version: use a version like 1.0.0" in response.content
    assert b"does not match" not in response.content
    assert not Skill.objects.exists()


def test_admin_upload_refuses_another_tenant(client, staff, other_tenant):
    client.force_login(staff)
    upload = io.BytesIO(yaml.safe_dump(minimal_ir()).encode())
    upload.name = "s.yaml"
    response = client.post(
        "/admin/skills/skill/import/", {"tenant": other_tenant.pk, "file": upload}
    )
    assert response.status_code == 200
    assert not Skill.objects.exists()


def _action(client, action, skill, **extra):
    return client.post(
        "/admin/skills/skill/", {"action": action, "_selected_action": [skill.pk], **extra}
    )


@pytest.mark.integration
def test_admin_publish_shows_the_plan_then_publishes_on_confirmation(
    client, staff, sandbox, connector, imported_skill, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    # when the action is chosen, a confirmation page shows the plan and nothing is called
    page = _action(client, "publish_selected", imported_skill)
    assert page.status_code == 200
    assert [item.action for item in page.context["plan"]] == ["create"]
    assert sandbox.state.requests == []
    # when confirmed, the run publishes and the browser goes to its progress page
    with django_capture_on_commit_callbacks(execute=True):
        done = _action(client, "publish_selected", imported_skill, confirm="yes")
    assert done["Location"].startswith("/command-center/distribution/openai/publish/")
    assert len(sandbox.state.org("org-dainese").gpts) == 1


def test_admin_dry_run_shows_the_plan_without_a_confirm_button(
    client, staff, connector, imported_skill
):
    client.force_login(staff)
    page = _action(client, "dry_run_selected", imported_skill)
    assert [item.action for item in page.context["plan"]] == ["create"]
    assert b"Yes, publish" not in page.content


def test_admin_export_action_downloads_the_archive(client, staff, imported_skill):
    client.force_login(staff)
    response = _action(client, "export_selected", imported_skill)
    assert response["Content-Type"] == "application/zip"
    assert "manifest.csv" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()

"""The skills admin's list, change page, import and bundle pages, and its publish, dry run and
export actions: what they show and do, and that each is scoped to the user's tenants."""

import io
import zipfile

import pytest
import yaml

from skills.models import Skill
from tests.skills.helpers import minimal_ir, zip_bytes


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


def test_the_admin_shows_a_skills_name_read_only_with_how_to_change_it(
    client, superuser, imported_skill
):
    # given
    client.force_login(superuser)
    url = f"/admin/skills/skill/{imported_skill.pk}/change/"

    # when
    page = client.get(url).content.decode()

    # then
    assert 'name="name"' not in page
    assert "edit the skill&#x27;s IR and import it again" in page

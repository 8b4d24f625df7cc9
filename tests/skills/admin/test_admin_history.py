"""Every custom view and action of the skills admin writes who did what to which skill in the
skill's admin history. Like Django's own admin, a page that is only read (the bundle) and a
confirmation page not yet confirmed write nothing, nor does an import that changed nothing."""

import io

import pytest
import yaml
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse
from django.utils.html import escape

from skills.ir.importers import sources_from_upload
from skills.models import PublishRun, Skill
from skills.services.imports import skills_import
from tests.factories import admin_history, admin_history_url
from tests.skills.helpers import minimal_ir, zip_bytes

CHANGELIST = reverse("admin:skills_skill_changelist")
IMPORT = reverse("admin:skills_skill_import")


def _upload(name: str, content: bytes) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def _action(client, action: str, skill: Skill, **extra):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [skill.pk], **extra})


def import_new_skill(client, request):
    tenant = request.getfixturevalue("tenant")
    content = zip_bytes({"prd/skill.yaml": yaml.safe_dump(minimal_ir()).encode()})
    client.post(IMPORT, {"tenant": tenant.pk, "file": _upload("skills.zip", content)})
    skill = Skill.objects.get(tenant=tenant, skill_id="prd-review")
    return skill, ADDITION, "Imported version 1.0.0 from skills.zip."


def import_new_version(client, request):
    tenant = request.getfixturevalue("tenant")
    skills_import(
        tenant=tenant,
        sources=sources_from_upload("v1.yaml", yaml.safe_dump(minimal_ir()).encode()),
    )
    content = yaml.safe_dump(minimal_ir(version="1.1.0")).encode()
    client.post(IMPORT, {"tenant": tenant.pk, "file": _upload("v2.yaml", content)})
    skill = Skill.objects.get(tenant=tenant, skill_id="prd-review")
    return skill, CHANGE, "Imported version 1.1.0 (was 1.0.0) from v2.yaml."


def publish_confirmed(client, request):
    request.getfixturevalue("connector")
    skill = request.getfixturevalue("imported_skill")
    _action(client, "publish_selected", skill, confirm="yes")
    run = PublishRun.objects.get()
    return skill, CHANGE, f"Publish queued as publish run {run.pk}."


def republish_confirmed(client, request):
    request.getfixturevalue("connector")
    skill = request.getfixturevalue("imported_skill")
    _action(client, "republish_selected", skill, confirm="yes")
    run = PublishRun.objects.get()
    message = f"Republish over the changes made in ChatGPT queued as publish run {run.pk}."
    return skill, CHANGE, message


def dry_run(client, request):
    request.getfixturevalue("connector")
    skill = request.getfixturevalue("imported_skill")
    _action(client, "dry_run_selected", skill)
    return skill, CHANGE, "Dry run: the publish plan is create."


def export(client, request):
    skill = request.getfixturevalue("imported_skill")
    _action(client, "export_selected", skill)
    return skill, CHANGE, "Exported as a Custom GPT bundle (ZIP + manifest.csv)."


def export_plugin(client, request):
    skill = request.getfixturevalue("imported_skill")
    _action(client, "export_plugin_selected", skill)
    return skill, CHANGE, "Exported in a ChatGPT plugin (SKILL.md)."


def check_drift(client, request):
    skill = request.getfixturevalue("imported_skill")
    _action(client, "check_drift_selected", skill)
    return skill, CHANGE, "Drift check queued."


CASES = [
    import_new_skill,
    import_new_version,
    publish_confirmed,
    republish_confirmed,
    dry_run,
    export,
    export_plugin,
    check_drift,
]


@pytest.mark.parametrize("use", CASES, ids=[case.__name__ for case in CASES])
def test_each_custom_view_and_action_is_in_the_skills_history(client, staff, request, use):
    # given staff of the tenant, logged in
    client.force_login(staff)

    # when they use the view or action
    skill, flag, message = use(client, request)

    # then the skill's history says who did what, and its History page shows it
    assert admin_history(skill) == [(staff.username, flag, message)]
    assert escape(message) in client.get(admin_history_url(skill)).content.decode()


def test_an_import_logs_each_skill_it_created(client, staff, tenant):
    # given a ZIP of two skills
    client.force_login(staff)
    content = zip_bytes(
        {
            "a/skill.yaml": yaml.safe_dump(minimal_ir("prd-review")).encode(),
            "b/skill.yaml": yaml.safe_dump(minimal_ir("rfc-review")).encode(),
        }
    )

    # when it is imported
    client.post(IMPORT, {"tenant": tenant.pk, "file": _upload("two.zip", content)})

    # then each skill has its own entry
    for skill in Skill.objects.filter(tenant=tenant):
        assert admin_history(skill) == [
            (staff.username, ADDITION, "Imported version 1.0.0 from two.zip.")
        ]


def test_reading_and_not_confirming_write_no_history(client, staff, connector, imported_skill):
    # given staff of the tenant
    client.force_login(staff)

    # when they open the bundle, stop at the (re)publish confirmation, import an unchanged skill
    client.get(reverse("admin:skills_skill_bundle", args=[imported_skill.pk]))
    _action(client, "publish_selected", imported_skill)
    _action(client, "republish_selected", imported_skill)
    content = yaml.safe_dump(minimal_ir()).encode()
    skills_import(tenant=imported_skill.tenant, sources=sources_from_upload("s.yaml", content))
    again = client.post(
        IMPORT, {"tenant": imported_skill.tenant.pk, "file": _upload("s.yaml", content)}
    )

    # then nothing was written, and the history is empty
    assert again.status_code == 302  # imported, unchanged
    assert not PublishRun.objects.exists()
    assert not LogEntry.objects.exists()

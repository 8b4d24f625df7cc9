"""A newcomer's path through Claresia in a real browser (seed Parts 1-4): connect, import a skill,
dry run, publish with progress, download the export, see the polled events, open a record from its
footer link; and a tenant's staff cannot open another tenant's pages by URL."""

import io
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from claresia.models import ArchetypeGroup, Tenant, TenantMembership
from demo.loader import DEMO_ARCHETYPES, DEMO_SKILLS_DIR
from skills.models import Publication
from telemetry.hub.services import hub_token_issue
from tests.browser.helpers import connect_llm, log_in
from tests.factories import make_skill

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DEMO_SKILL = DEMO_SKILLS_DIR / "prd-review"
PASSWORD = "a-long-test-passphrase"


@pytest.fixture
def newcomer(transactional_db, tenant):
    for slug, name, group_id in DEMO_ARCHETYPES:
        ArchetypeGroup.objects.create(
            tenant=tenant, slug=slug, name=name, workspace_group_id=group_id
        )
    user = get_user_model().objects.create_user(username="nora", password=PASSWORD, is_staff=True)
    TenantMembership.objects.create(user=user, tenant=tenant)
    return user


def skill_zip(tmp_path) -> Path:
    folder = tmp_path / "prd-review"
    shutil.copytree(DEMO_SKILL, folder)
    archive = shutil.make_archive(str(tmp_path / "skills"), "zip", tmp_path, "prd-review")
    return Path(archive)


def run_action(page, skill_label: str, action: str) -> None:
    page.goto("/admin/skills/skill/")
    page.get_by_role("row", name=skill_label).get_by_role("checkbox").check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_from_connecting_to_reading_a_record(
    page, newcomer, tenant, sandbox, tmp_path, live_server
):
    # given
    log_in(page, "nora", PASSWORD)

    # when: Connect LLM with a Compliance key, then Test connection
    connect_llm(page, "sk-compliance-newcomer-9z8y")

    # then
    page.get_by_text("connected to org-dainese").wait_for()

    # when: a skill is imported from a ZIP
    page.goto("/admin/skills/skill/import/")
    page.select_option("#id_tenant", label="Dainese")
    page.set_input_files("#id_file", str(skill_zip(tmp_path)))
    page.click("input[value=Import]")

    # then
    page.get_by_text("1 skill imported.").wait_for()

    # when: dry run
    run_action(page, "prd-review", "dry_run_selected")

    # then: the plan, and nothing written
    page.get_by_text("Publish plan (dry run)").first.wait_for()
    assert "create" in page.content()
    assert not any(method != "GET" for method, _, _ in sandbox.state.requests)

    # when: publish, confirmed
    run_action(page, "prd-review", "publish_selected")
    page.get_by_role("button", name="Yes, publish").click()

    # then: the progress page says it is done
    page.get_by_text("0 remaining").wait_for()
    assert "1</strong> done" in page.content()
    publication = Publication.objects.get(skill__skill_id="prd-review")
    assert publication.status == "published" and publication.gpt_id.startswith("g-")

    # when: the export is downloaded
    page.goto("/command-center/distribution/openai/export/?tenant=dainese")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP + manifest.csv").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))

    # then
    names = archive.namelist()
    assert "manifest.csv" in names
    assert "claresia-dainese-prd-review.zip" in names

    # when: the GPT is used — audit events polled, and its output posted to the hub
    hub = APIClient()
    hub.credentials(HTTP_AUTHORIZATION=f"Bearer {hub_token_issue(tenant=tenant).plaintext}")
    answer = hub.post(
        "/hub/v1/records",
        {
            "skill_id": "prd-review",
            "output": "## Verdict\nReady with changes.",
            "usage": {"input_tokens": 1200, "output_tokens": 300},
            "latency_ms": 2300,
        },
        format="json",
        HTTP_OPENAI_CONVERSATION_ID="conv-newcomer",
    ).json()
    sandbox.state.add_events(
        "org-dainese",
        [
            {
                "id": "audit_log-newcomer",
                "type": "gpt.invoked",
                "effective_at": int(time.time()) - 5,
                "gpt.invoked": {
                    "gpt_name": "claresia-dainese-prd-review",
                    "gpt_id": publication.gpt_id,
                    "conversation_id": "conv-newcomer",
                    "model": "gpt-4o",
                    "usage": {"input_tokens": 1200, "output_tokens": 300},
                    "latency_ms": 2300,
                },
            }
        ],
    )
    from telemetry.ingest.services import telemetry_poll_tenant

    telemetry_poll_tenant(tenant=tenant)

    # then: the dashboard shows the polled invocation, drawn as a chart
    page.goto("/command-center/telemetry/?tenant=dainese&period=24h")
    invocations = page.locator(".stat", has=page.get_by_text("invocations", exact=True))
    invocations = invocations.locator("b")
    assert invocations.inner_text() == "1"
    page.wait_for_function("window.Chart && Object.keys(window.Chart.instances).length > 0")

    # then: the footer links to the record page, which shows the output
    assert answer["footer"].startswith("Claresia · PRD Review · $0.01 · 2.3s · [View record](")
    page.goto(answer["url"].removeprefix(answer["url"].split("/hub/")[0]))
    page.get_by_text("Ready with changes.").wait_for()


def test_a_tenants_staff_cannot_open_another_tenants_pages_by_url(page, newcomer, tenant):
    # given: another tenant with a skill
    other = Tenant.objects.create(slug="othercorp", name="Other Corp")
    skill = make_skill(other, skill_id="secret-skill", name="Secret Skill")
    log_in(page, "nora", PASSWORD)

    # when / then
    for url in (
        f"/admin/skills/skill/{skill.pk}/change/",
        f"/admin/claresia/tenant/{other.pk}/change/",
        "/command-center/?tenant=othercorp",
        "/command-center/distribution/?tenant=othercorp",
        "/command-center/distribution/openai/export/?tenant=othercorp",
    ):
        page.goto(url)
        assert "Secret Skill" not in page.content()
        assert "Other Corp" not in page.content()

"""Pages read rows (ARCHITECTURE.md → command_center): with the ChatGPT API hanging, every Command
Center page and the skills' and connector's admin pages answer from the database — no GET makes
an outbound HTTP call, and no GET writes a row. The workspace is read by a queued task instead
(skills.services.workspace_read)."""

import re

import httpx
import pytest
import respx
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse

from command_center import urls as command_center_urls
from connectors.plugin_remote import plugin_remote_configure
from connectors.services import connector_connect
from skills.models import PluginMarketplace, PublishRun, Skill
from skills.targets.custom_gpt.publish import publish_run_create
from skills.targets.plugin.publish import plugin_marketplace_state
from tests.command_center.helpers import add_event
from tests.factories import make_user
from tests.skills.helpers import minimal_ir

pytestmark = pytest.mark.django_db

WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@pytest.fixture
def tenant_in_a_workspace(tenant, settings):
    """dainese with everything a page could be tempted to ask OpenAI about: a workspace id, a
    plugin remote, a skill, a publish run and a telemetry event."""
    settings.CHATGPT_ADMIN_API_BASE = "https://chatgpt.hanging.test/v1"
    settings.OPENAI_API_BASE = "https://api.hanging.test/v1"
    connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key="sk-admin-key", workspace_id=WORKSPACE
    )
    plugin_remote_configure(
        tenant=tenant, url="https://git.dainese.example/plugins.git", token="ghp-token-1234567890"
    )
    skill = Skill.objects.create(
        tenant=tenant,
        skill_id="prd-review",
        name="PRD Review",
        version="1.0.0",
        description="Reviews a PRD.",
        ir=minimal_ir("prd-review"),
    )
    add_event(tenant, skill=skill.skill_id)
    publish_run_create(tenant=tenant, skill_ids=[skill.skill_id])
    return tenant


@pytest.fixture
def hanging_chatgpt():
    """Every outbound HTTP call is routed to a ChatGPT API that never answers (a timeout)."""
    with respx.mock(assert_all_called=False) as router:
        yield router.route().mock(side_effect=httpx.ReadTimeout("the ChatGPT API is not answering"))


def command_center_gets(tenant) -> list[str]:
    """Every Command Center URL (POST-only ones too: they must refuse a GET without asking)."""
    run = PublishRun.objects.filter(tenant=tenant).first()
    kwargs = {"run_id": run.pk, "chart": "volume", "event_id": 1, "mapping_id": 1}
    urls = []
    for pattern in command_center_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m[1]]), str(pattern.pattern))
        urls.append(f"{reverse('command_center:overview')}{route}?tenant={tenant.slug}")
    return urls


def admin_gets(tenant) -> list[str]:
    """The admin's pages a tenant's workspace could show: the skills and the connector."""
    skill = Skill.objects.filter(tenant=tenant).first()
    return [
        "/admin/",
        "/admin/skills/skill/",
        f"/admin/skills/skill/{skill.pk}/change/",
        "/admin/skills/publishrun/",
        "/admin/connectors/connector/",
        f"/admin/connectors/connector/{tenant.connector.pk}/change/",
    ]


def writes_of(queries) -> list[str]:
    return [q["sql"] for q in queries if WRITES.match(q["sql"])]


def test_every_command_center_page_answers_without_asking_the_hanging_api(
    client, staff, tenant_in_a_workspace, hanging_chatgpt
):
    # given a staff member of a tenant in a workspace, and a ChatGPT API that never answers
    client.force_login(staff)

    # when every Command Center page is asked for
    statuses = {
        url: client.get(url).status_code for url in command_center_gets(tenant_in_a_workspace)
    }

    # then each answered (a POST-only URL with 405), and none made an outbound call
    assert [url for url, status in statuses.items() if status >= 500] == []
    assert statuses["/command-center/distribution/?tenant=dainese"] == 200
    assert statuses["/command-center/distribution/plugin/?tenant=dainese"] == 200
    assert hanging_chatgpt.call_count == 0


def test_the_admin_pages_answer_without_asking_the_hanging_api(
    client, tenant_in_a_workspace, hanging_chatgpt
):
    # given a Claresia superuser and a ChatGPT API that never answers
    client.force_login(make_user("root", superuser=True))

    # when the skills' and connector's admin pages are asked for
    statuses = {url: client.get(url).status_code for url in admin_gets(tenant_in_a_workspace)}

    # then each answered, and none made an outbound call
    assert set(statuses.values()) == {200}
    assert hanging_chatgpt.call_count == 0


def test_no_command_center_or_admin_get_writes_a_row(client, staff, tenant_in_a_workspace):
    # given pages that were never visited (no plugin marketplace row yet, nothing read)
    urls = command_center_gets(tenant_in_a_workspace)
    client.force_login(staff)
    admin = make_user("root", superuser=True)

    # when each is asked for
    with CaptureQueriesContext(connection) as queries:
        for url in urls:
            client.get(url)
    client.force_login(admin)
    with CaptureQueriesContext(connection) as admin_queries:
        for url in admin_gets(tenant_in_a_workspace):
            client.get(url)

    # then nothing was inserted, updated or deleted
    assert writes_of(queries.captured_queries) == []
    assert writes_of(admin_queries.captured_queries) == []
    assert not PluginMarketplace.objects.exists()


def test_the_write_counter_sees_a_write(tenant):
    # given the counter the test above trusts, around a call that creates a row
    with CaptureQueriesContext(connection) as queries:
        plugin_marketplace_state(tenant=tenant)

    # then the insert is counted
    assert len(writes_of(queries.captured_queries)) == 1

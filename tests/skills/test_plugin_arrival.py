"""Plugin arrival: whether the tenant's plugin `claresia-<tenant>` is in its ChatGPT workspace,
since when, and whether the workspace has synced the last commit — read through the real
Compliance API's plugin inventory (the sandbox over real HTTP; respx for single faults)."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from connectors.openai import chatgpt_admin
from connectors.openai.client import Host, OpenAIClient, RetryPolicy
from connectors.openai.errors import MalformedListError
from connectors.sandbox.chatgpt_admin import plugin_object
from connectors.services import connector_connect
from skills.models import PluginMarketplace
from skills.targets.plugin.arrival import ArrivalStatus, plugin_arrival_check
from skills.targets.plugin.publish import plugin_publish

pytestmark = pytest.mark.integration

WORKSPACE = "3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
PAGE = "/command-center/distribution/plugin/"


def connect(tenant, *, workspace_id=WORKSPACE, api_key="sk-admin-key"):
    connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key=api_key, workspace_id=workspace_id
    )


@pytest.fixture
def workspace(sandbox, tenant):
    connect(tenant)
    return sandbox


def put_plugins(sandbox, *plugins, workspace_id=WORKSPACE):
    httpx.post(
        f"{sandbox.url}/_sandbox/compliance/plugins/{workspace_id}", json={"plugins": list(plugins)}
    ).raise_for_status()


def sync(sandbox, plugin_id, **fields):
    httpx.patch(
        f"{sandbox.url}/_sandbox/compliance/plugins/{WORKSPACE}/{plugin_id}", json=fields
    ).raise_for_status()


def plugin_requests(sandbox):
    return [path for _method, path, _status in sandbox.state.requests if "/plugins" in path]


def test_without_a_workspace_id_nothing_is_asked(sandbox, tenant):
    # given a connector with no workspace id
    connect(tenant, workspace_id="")
    # when
    arrival = plugin_arrival_check(tenant=tenant)
    # then
    assert arrival.status == ArrivalStatus.NO_WORKSPACE
    assert "set it to confirm" in arrival.summary
    assert plugin_requests(sandbox) == []


def test_a_workspace_without_the_plugin_says_do_the_one_time_steps(workspace, tenant):
    # given the workspace holds someone else's plugin only
    put_plugins(workspace, plugin_object(plugin_id="plg_other", name="travel-tools"))
    # when
    arrival = plugin_arrival_check(tenant=tenant)
    # then
    assert arrival.status == ArrivalStatus.NOT_IMPORTED
    assert arrival.summary == "not yet imported — do the one-time steps"


def test_an_imported_plugin_is_in_the_workspace_with_its_status_and_policies(workspace, tenant):
    # given the workspace imported claresia-dainese (nothing pushed by Claresia recorded yet)
    put_plugins(workspace, plugin_object(plugin_id="plg_1", name="claresia-dainese"))
    # when
    arrival = plugin_arrival_check(tenant=tenant)
    # then the list found it and its own object was read
    assert arrival.status == ArrivalStatus.IN_WORKSPACE
    assert arrival.summary == "in the workspace"
    assert (arrival.plugin_status, arrival.installation_policy, arrival.authentication_policy) == (
        "ACTIVE",
        "AVAILABLE",
        "ON_INSTALL",
    )
    assert any(path.endswith("/plugins/plg_1") for path in plugin_requests(workspace))


def test_a_plugin_of_the_same_name_from_another_marketplace_is_not_ours(workspace, tenant):
    # given a user imported a marketplace of their own holding a plugin of our name
    put_plugins(
        workspace,
        plugin_object(plugin_id="plg_1", name="claresia-dainese", marketplace_name="bobs-tools"),
    )
    # when
    arrival = plugin_arrival_check(tenant=tenant)
    # then
    assert arrival.status == ArrivalStatus.NOT_IMPORTED


@pytest.mark.parametrize(
    ("workspace_version", "pushed", "same"),
    [
        ("1.0.0+sha.abc", "1.0.0+sha.abc", True),
        ("1.0.0+sha.abc", "1.0.0+sha.def", False),
        ("1.0.0", "1.0.0+sha.def", True),  # build metadata dropped by the workspace
        ("1.0.0+sha.abc", "1.0.0", True),
        ("1.0.1", "1.0.0+sha.abc", False),
    ],
)
def test_versions_are_compared_with_and_without_build_metadata(workspace_version, pushed, same):
    assert chatgpt_admin.same_plugin_version(workspace_version, pushed) is same


def test_the_plugin_is_found_on_a_later_page_by_its_cursor(workspace, tenant):
    # given 150 other plugins sorting before ours: it is on the second page of 100
    others = [plugin_object(plugin_id=f"plg_a{i:03d}", name=f"tool-{i}") for i in range(150)]
    put_plugins(workspace, *others, plugin_object(plugin_id="plg_z", name="claresia-dainese"))
    # when
    arrival = plugin_arrival_check(tenant=tenant)
    # then
    assert arrival.status == ArrivalStatus.IN_WORKSPACE and arrival.plugin_id == "plg_z"
    # two list pages, then the plugin itself
    assert [p.rsplit("/", 1)[-1] for p in plugin_requests(workspace)] == [
        "plugins",
        "plugins",
        "plg_z",
    ]


def test_a_push_the_workspace_has_not_synced_is_waiting_for_sync(
    workspace, tenant, bare, two_skills
):
    # given Claresia pushed its marketplace, and the workspace holds an older version
    assert plugin_publish(tenant=tenant).ok
    pushed = PluginMarketplace.objects.get(tenant=tenant).last_plugin_version
    assert pushed.startswith("1.0.0+sha.")
    put_plugins(
        workspace,
        plugin_object(plugin_id="plg_1", name="claresia-dainese", version="1.0.0+sha.000000000000"),
    )
    # when
    arrival = plugin_arrival_check(tenant=tenant)
    # then
    assert arrival.status == ArrivalStatus.WAITING_FOR_SYNC
    assert arrival.summary == "imported, waiting for sync"
    assert arrival.pushed_version == pushed

    # when the workspace syncs (Sync now)
    sync(workspace, "plg_1", version=pushed)
    # then it is in the workspace
    assert plugin_arrival_check(tenant=tenant).status == ArrivalStatus.IN_WORKSPACE


def test_without_a_version_the_plugin_is_in_the_workspace(workspace, tenant):
    # given a push recorded now, and a workspace plugin whose release names no version
    PluginMarketplace.objects.create(
        tenant=tenant, last_commit="a" * 40, last_published_at=datetime.now(UTC)
    )
    plugin = plugin_object(plugin_id="plg_1", name="claresia-dainese")
    del plugin["current_release"]["version"]
    put_plugins(workspace, plugin)
    # then nothing tells it is older (no timestamp is published)
    assert plugin_arrival_check(tenant=tenant).status == ArrivalStatus.IN_WORKSPACE


@pytest.mark.parametrize(
    ("api_key", "workspace_id", "words"),
    [
        ("sk-revoked-key", WORKSPACE, "refused the key (401"),
        ("sk-forbidden-key", WORKSPACE, "denied this call (403"),
        ("sk-admin-key", "ffffffff-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "denied this call (403"),
        ("sk-admin-key", "00000000-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "answered 404"),
    ],
)
def test_a_refusal_is_said_in_plain_words(sandbox, tenant, api_key, workspace_id, words):
    # given
    connect(tenant, api_key=api_key, workspace_id=workspace_id)
    # when
    arrival = plugin_arrival_check(tenant=tenant)
    # then
    assert arrival.status == ArrivalStatus.UNKNOWN
    assert words in arrival.summary and arrival.summary.startswith("could not check: ")


def test_a_rate_limit_is_said_in_plain_words_without_waiting(workspace, tenant):
    # given a rate limit of one request a minute, already spent
    httpx.post(
        f"{workspace.url}/_sandbox/compliance/rate_limit", json={"per_minute": 1}
    ).raise_for_status()
    put_plugins(workspace, plugin_object(plugin_id="plg_1", name="claresia-dainese"))
    assert plugin_arrival_check(tenant=tenant).status == ArrivalStatus.IN_WORKSPACE
    # when the page asks again within the minute
    started = datetime.now(UTC)
    arrival = plugin_arrival_check(tenant=tenant)
    # then it says so at once (one attempt: the page does not sit out Retry-After)
    assert arrival.status == ArrivalStatus.UNKNOWN
    assert "rate limiting" in arrival.error
    assert datetime.now(UTC) - started < timedelta(seconds=5)


# ---- the page ---------------------------------------------------------------------------------


def check_now(client, django_capture_on_commit_callbacks):
    """Press the page's Check now and let the queued read run (the request's transaction
    commits)."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{PAGE}check", {"tenant": "dainese"})
    assert response.status_code == 302


def test_the_plugin_page_says_where_the_plugin_stands(
    client, staff, workspace, tenant, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    check_now(client, django_capture_on_commit_callbacks)
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()
    assert "not yet imported — do the one-time steps" in page

    put_plugins(workspace, plugin_object(plugin_id="plg_1", name="claresia-dainese"))
    check_now(client, django_capture_on_commit_callbacks)
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()
    assert "in the workspace" in page
    assert "<dt>Installation</dt><dd>AVAILABLE</dd>" in page


def test_the_plugin_page_shows_a_stored_read_until_the_next_check(
    client, staff, workspace, tenant, django_capture_on_commit_callbacks
):
    # given a read that found no plugin, then the plugin imported in the workspace
    client.force_login(staff)
    check_now(client, django_capture_on_commit_callbacks)
    put_plugins(workspace, plugin_object(plugin_id="plg_1", name="claresia-dainese"))
    workspace.state.requests.clear()

    # when the page is viewed without Check now
    page = client.get(PAGE, {"tenant": "dainese"}).content.decode()

    # then it shows the stored read and when it was made, and asked the workspace nothing
    assert "not yet imported — do the one-time steps" in page
    assert 'id="arrival-read-at">Last read ' in page
    assert plugin_requests(workspace) == []


def test_the_plugin_page_shows_a_refusal_and_still_renders(
    client, staff, sandbox, tenant, django_capture_on_commit_callbacks
):
    connect(tenant, api_key="sk-revoked-key")
    client.force_login(staff)
    check_now(client, django_capture_on_commit_callbacks)
    response = client.get(PAGE, {"tenant": "dainese"})
    assert response.status_code == 200
    assert (
        "could not check: The ChatGPT Compliance API refused the key" in response.content.decode()
    )


# ---- the client's edge cases (respx) ----------------------------------------------------------

BASE = "https://chatgpt.test/v1"
PLUGINS = f"{BASE}/compliance/workspaces/{WORKSPACE}/plugins"


@pytest.fixture
def admin_client():
    with OpenAIClient(
        api_key="sk-admin-unit",
        host=Host.CHATGPT_ADMIN,
        base_url=BASE,
        retry=RetryPolicy(max_attempts=1),
    ) as opened:
        yield opened


@respx.mock
def test_the_cursor_given_is_sent_back_and_limit_is_at_most_100(admin_client):
    # given two pages, the first naming its next cursor in `cursor`
    route = respx.get(PLUGINS).mock(
        side_effect=[
            httpx.Response(
                200,
                json={"data": [{"id": "p1"}], "has_more": True, "cursor": "c-2", "last_id": "p1"},
            ),
            httpx.Response(200, json={"data": [{"id": "p2"}], "has_more": False}),
        ]
    )
    # when
    ids = [p["id"] for p in chatgpt_admin.plugins_pages(admin_client, WORKSPACE)]
    # then
    assert ids == ["p1", "p2"]
    first, second = (call.request.url.params for call in route.calls)
    assert first["limit"] == "100" and "cursor" not in first
    assert second["cursor"] == "c-2"


@respx.mock
def test_a_cursor_that_does_not_advance_is_not_followed_for_ever(admin_client):
    respx.get(PLUGINS).mock(
        return_value=httpx.Response(
            200, json={"data": [{"id": "p1"}], "has_more": True, "cursor": "same"}
        )
    )
    with pytest.raises(MalformedListError):
        list(chatgpt_admin.plugins_pages(admin_client, WORKSPACE))


@respx.mock
def test_a_list_whose_data_is_not_a_list_is_refused(admin_client):
    respx.get(PLUGINS).mock(return_value=httpx.Response(200, json={"data": {"id": "p1"}}))
    with pytest.raises(MalformedListError):
        list(chatgpt_admin.plugins_pages(admin_client, WORKSPACE))


@respx.mock
def test_a_page_with_more_and_no_cursor_is_not_followed_by_a_plugin_id(admin_client):
    # given a page that names no `cursor` (only a plugin id, which is not a cursor)
    respx.get(PLUGINS).mock(
        return_value=httpx.Response(
            200, json={"data": [{"id": "p1"}], "has_more": True, "next_cursor": "p1"}
        )
    )
    # when / then
    with pytest.raises(MalformedListError):
        list(chatgpt_admin.plugins_pages(admin_client, WORKSPACE))


def test_a_plugin_object_is_read_by_its_published_fields_and_defensively():
    # given the published shape, then junk
    plugin = chatgpt_admin.workspace_plugin(
        {
            "id": "p1",
            "name": "claresia-dainese",
            "marketplace_name": "claresia-dainese",
            "current_release": {"display_name": "Claresia · dainese", "version": "1.0.0+sha.abc"},
            "status": "ACTIVE",
            "installation_policy": "AVAILABLE",
            "authentication_policy": "ON_INSTALL",
            "version": "9.9.9",
        }
    )
    assert plugin.version == "1.0.0+sha.abc" and plugin.display_name == "Claresia · dainese"
    assert plugin.marketplace_name == "claresia-dainese" and plugin.status == "ACTIVE"
    empty = chatgpt_admin.workspace_plugin({"name": 3, "current_release": "1.0.0"})
    assert empty.name == "" and empty.version == ""

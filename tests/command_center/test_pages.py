"""Command Center pages: Overview, Telemetry (+ CSV), Records, and the View record page's
telemetry events. Each is login-only and shows one tenant the user belongs to, never another."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import Connector
from connectors.services import connector_connect
from skills.models import Publication, PublishRun
from telemetry.models import GovernanceEvent, HubRecord, PollCursor
from tests.command_center.helpers import add_event, add_record
from tests.factories import make_skill, make_user

pytestmark = pytest.mark.django_db

OVERVIEW = "/command-center/"
TELEMETRY = "/command-center/telemetry/"
RECORDS = "/command-center/records/"
TEST_CONNECTION = "/command-center/connector/test"


def csv_url(chart: str) -> str:
    return f"/command-center/telemetry/{chart}.csv"


@pytest.fixture
def viewer(tenant):
    return make_user("dainese-viewer", tenants=[tenant], role="viewer")


@pytest.fixture
def other_tenant_data(other_tenant, other_skill):
    """Another tenant's telemetry, record and governance event, each with a telltale string."""
    add_event(
        other_tenant,
        skill="quarterly-review",
        failed=True,
        error_code="othercorp_secret_error",
        conversation_id="conv-shared",
    )
    record = add_record(other_tenant, other_skill, openai_conversation_id="conv-shared")
    GovernanceEvent.objects.create(
        tenant=other_tenant,
        kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
        message="othercorp governance message",
        dedupe_key="o1",
        occurred_at=timezone.now(),
    )
    return record


# ---- every page ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [OVERVIEW, TELEMETRY, RECORDS, csv_url("volume")])
def test_pages_require_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_test_connection_requires_login(client, tenant, connector):
    response = client.post(TEST_CONNECTION, {"tenant": "dainese"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    "url",
    [
        OVERVIEW,
        TELEMETRY,
        TELEMETRY + "?period=30d",
        RECORDS,
        RECORDS + "?skill=quarterly-review",
        csv_url("failures"),
        csv_url("cost"),
    ],
)
def test_another_tenants_data_never_appears(client, staff, skill, other_tenant_data, url):
    # given
    client.force_login(staff)

    # when
    response = client.get(url)

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "othercorp" not in body.lower()
    assert "Other Corp" not in body
    assert "quarterly" not in body.lower()
    assert other_tenant_data.pk not in body


@pytest.mark.parametrize(
    "url", [OVERVIEW, TELEMETRY, RECORDS, csv_url("volume"), csv_url("latency")]
)
def test_another_tenant_by_url_is_not_found(client, staff, other_tenant_data, url):
    # given
    client.force_login(staff)

    # when
    response = client.get(url + "?tenant=othercorp")

    # then
    assert response.status_code == 404


def test_a_superuser_switches_between_tenants(client, superuser, skill, other_tenant_data):
    # given
    client.force_login(superuser)

    # when
    response = client.get(TELEMETRY + "?tenant=othercorp")

    # then
    assert b"othercorp_secret_error" in response.content


def test_switching_tenants_keeps_the_chosen_period(client, superuser, skill, other_tenant_data):
    # given
    client.force_login(superuser)

    # when
    response = client.get(TELEMETRY + "?tenant=othercorp&period=30d&page=3")

    # then: the switcher's form sends the period along, not the page
    body = response.content.decode()
    assert '<input type="hidden" name="period" value="30d">' in body
    assert 'name="page"' not in body


def test_the_nav_links_telemetry_and_records_for_the_tenant(client, staff):
    client.force_login(staff)
    body = client.get(OVERVIEW).content.decode()
    assert 'href="/command-center/telemetry/?tenant=dainese"' in body
    assert 'href="/command-center/records/?tenant=dainese"' in body


# ---- Overview ------------------------------------------------------------------------------


def test_overview_shows_the_last_test_connection_message(client, staff, tenant):
    # given
    connector = connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key="sk-compliance-abcd"
    )
    Connector.objects.filter(pk=connector.pk).update(
        status=Connector.Status.FAILED,
        last_error="The Compliance API key is not valid",
        last_tested_at=timezone.now(),
    )
    client.force_login(staff)

    # when
    body = client.get(OVERVIEW).content.decode()

    # then
    assert "The Compliance API key is not valid" in body
    assert "Test connection</button>" in body
    assert "sk-compliance-abcd" not in body


def test_test_connection_runs_against_openai_and_reports(client, staff, sandbox, connector):
    # given
    client.force_login(staff)

    # when
    response = client.post(TEST_CONNECTION, {"tenant": "dainese"})

    # then
    assert response.status_code == 302
    connector.refresh_from_db()
    assert connector.status == Connector.Status.CONNECTED
    assert sandbox.state.requests == [
        ("GET", "/v1/organization/audit_logs", 200),
        ("GET", "/v1/compliance/organizations/org-dainese/logs", 200),
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Connection OK" in page
    assert 'id="connection-checks"' in page
    assert "Compliance Logs Platform, organization org-dainese" in page


def test_test_connection_shows_a_scope_failure(client, staff, sandbox, tenant):
    # given
    connector_connect(tenant=tenant, organization_id="org-dainese", api_key="sk-admin-regular-key")
    client.force_login(staff)

    # when
    response = client.post(TEST_CONNECTION, {"tenant": "dainese"}, follow=True)

    # then
    body = response.content.decode()
    assert "Admin key is not Compliance scope" in body
    assert "sk-admin-regular-key" not in body


def test_a_failed_check_reads_once_on_the_overview(client, staff, sandbox, tenant):
    # given a key the checklist refuses
    connector_connect(tenant=tenant, organization_id="org-dainese", api_key="sk-admin-regular-key")
    client.force_login(staff)

    # when
    response = client.post(TEST_CONNECTION, {"tenant": "dainese"}, follow=True)

    # then the reason is on its checklist line only, not again in the banner or a message
    body = response.content.decode()
    assert body.count("Admin key is not Compliance scope") == 1
    assert "Dainese: Partly connected — 1 of 2 checks failed" in body


def test_a_viewer_cannot_run_test_connection(client, viewer, sandbox, connector):
    # given
    client.force_login(viewer)

    # when
    response = client.post(TEST_CONNECTION, {"tenant": "dainese"})

    # then
    assert response.status_code == 403
    connector.refresh_from_db()
    assert connector.status == Connector.Status.NEVER_TESTED
    assert sandbox.state.requests == []


def test_a_viewer_sees_the_overview_without_the_button(client, viewer, connector):
    client.force_login(viewer)
    body = client.get(OVERVIEW).content.decode()
    assert "ChatGPT Enterprise" in body
    assert "Test connection</button>" not in body


def test_test_connection_is_post_only(client, staff, connector):
    client.force_login(staff)
    assert client.get(TEST_CONNECTION + "?tenant=dainese").status_code == 405


def test_test_connection_of_another_tenant_is_not_found(client, staff, other_tenant, sandbox):
    # given
    other = connector_connect(
        tenant=other_tenant, organization_id="org-dainese", api_key="sk-compliance-x"
    )
    client.force_login(staff)

    # when
    response = client.post(TEST_CONNECTION, {"tenant": "othercorp"})

    # then
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.last_tested_at is None


def test_overview_shows_each_skill_with_its_gpt_and_drift_state(client, staff, skill):
    # given
    Publication.objects.create(
        skill=skill,
        status=Publication.Status.PUBLISHED,
        published_sha256="a" * 64,
        drift_status=Publication.DriftStatus.DRIFTED,
    )
    client.force_login(staff)

    # when
    body = client.get(OVERVIEW).content.decode()

    # then
    assert "Incident Postmortem" in body
    assert '<span class="pill published">Published</span>' in body
    assert "Changed in ChatGPT" in body


def test_overview_shows_poll_health_and_lag(client, staff, tenant):
    # given
    now = timezone.now()
    PollCursor.objects.create(
        tenant=tenant,
        last_success_at=now - timedelta(minutes=2),
        last_error="OpenAI is rate limiting",
        last_error_at=now - timedelta(minutes=1),
        last_stored=17,
        last_skipped=4,
    )
    add_event(tenant, at=now - timedelta(hours=3, minutes=1))
    client.force_login(staff)

    # when
    body = client.get(OVERVIEW).content.decode()

    # then
    assert "17 stored, 4 skipped" in body
    assert "OpenAI is rate limiting" in body
    assert "Failing" in body
    assert "Fix what the error says" in body
    assert "3\xa0hours" in body  # the lag, from the newest event time


def test_overview_says_a_dead_poller_is_stale_not_healthy(client, staff, tenant):
    # given: the last success 7 minutes ago, polls every 60 s
    now = timezone.now()
    PollCursor.objects.create(tenant=tenant, last_success_at=now - timedelta(minutes=7))
    add_event(tenant, at=now - timedelta(minutes=8))
    client.force_login(staff)

    # when
    body = client.get(OVERVIEW).content.decode()

    # then
    assert "Healthy" not in body
    assert "Stale" in body
    assert "poller is probably not running" in body


def test_overview_lists_open_governance_events_with_links(client, staff, tenant, skill):
    # given
    record = add_record(tenant, skill, status=HubRecord.Status.REFUSED)
    GovernanceEvent.objects.create(
        tenant=tenant,
        skill=skill,
        hub_record=record,
        kind=GovernanceEvent.Kind.OUTPUT_REFUSED,
        message="The user did not share the output.",
        dedupe_key="g1",
        occurred_at=timezone.now(),
    )
    missing = GovernanceEvent.objects.create(
        tenant=tenant,
        kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
        message="An invocation has no hub record.",
        dedupe_key="g2",
        occurred_at=timezone.now(),
    )
    client.force_login(staff)

    # when
    body = client.get(OVERVIEW).content.decode()

    # then
    assert "2 open" in body
    assert f'href="/hub/records/{record.pk}"' in body
    assert f'href="/command-center/governance/{missing.pk}/?tenant=dainese"' in body


@pytest.mark.parametrize("url", [OVERVIEW, "/command-center/distribution/"])
def test_overview_and_distribution_list_publish_runs_with_their_progress(
    client, staff, tenant, url
):
    # given
    run = PublishRun.objects.create(
        tenant=tenant,
        skill_ids=["incident-postmortem", "prd-review"],
        status=PublishRun.Status.FAILED,
        total=2,
        done=1,
        failed=1,
    )
    client.force_login(staff)

    # when
    body = client.get(url).content.decode()

    # then
    assert f'href="/command-center/distribution/openai/publish/{run.pk}/"' in body
    assert '<span class="pill failed">Finished with failures</span>' in body
    assert "<td>1</td><td>1</td><td>0</td>" in body


# ---- Telemetry -----------------------------------------------------------------------------


def _chart_data(body: str) -> dict:
    match = re.search(
        r'<script id="dashboard-data" type="application/json">(.*?)</script>', body, re.S
    )
    return json.loads(match.group(1))


def test_the_dashboard_hands_its_numbers_to_the_charts(client, staff, tenant):
    # given
    add_event(tenant, skill="prd-review", cost="0.300000", latency_ms=900)
    add_event(
        tenant, skill="prd-review", failed=True, error_code="timeout", latency_ms=100, cost=None
    )
    client.force_login(staff)

    # when
    response = client.get(TELEMETRY + "?period=24h")

    # then
    assert response.status_code == 200
    data = _chart_data(response.content.decode())
    assert data["bucket"] == "hour"
    assert sum(data["volume"]["invocations"]) == 2
    assert sum(data["volume"]["failures"]) == 1
    assert data["cost"] == {"labels": ["prd-review"], "usd": [0.3]}
    assert data["latency"] == {"labels": ["prd-review"], "p50": [500.0], "p95": [860.0]}
    assert data["failures"] == {"labels": ["timeout"], "counts": [1]}


def test_the_dashboard_runs_no_inline_script(client, staff, tenant):
    # given: the CSP allows same-origin script files and non-executed data blocks only
    client.force_login(staff)

    # when
    body = client.get(TELEMETRY).content.decode()

    # then
    scripts = re.findall(r"<script([^>]*)>", body)
    assert scripts
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert "/static/vendor/chartjs/chart.umd.min.js" in body
    assert " on" not in "".join(re.findall(r"<[a-z]+ [^>]*>", body)).replace(" one", "")


def test_a_custom_period_is_shown(client, staff, tenant):
    client.force_login(staff)
    response = client.get(TELEMETRY + "?from=2026-11-01&to=2026-11-03")
    assert response.status_code == 200
    assert "2026-11-01 00:00 UTC – 2026-11-04 00:00 UTC, by day" in response.content.decode()


def test_a_bad_period_gets_a_message_not_an_error_page(client, staff, tenant):
    client.force_login(staff)
    response = client.get(TELEMETRY + "?from=2026-11-05&to=2026-11-01")
    assert response.status_code == 400
    assert "“to” must be after “from”." in response.content.decode()


def test_a_rejected_range_keeps_the_typed_dates_in_the_inputs(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    body = client.get(TELEMETRY + "?from=2026-11-05&to=2026-11-01").content.decode()

    # then: corrected, not retyped
    assert re.search(r'<input type="text" name="from" value="2026-11-05"', body)
    assert re.search(r'<input type="text" name="to" value="2026-11-01"', body)


def test_the_range_inputs_ask_for_iso_days_not_the_browsers_locale(client, staff, tenant):
    # given
    client.force_login(staff)

    # when
    body = client.get(TELEMETRY).content.decode()

    # then
    assert 'type="date"' not in body
    assert body.count('placeholder="YYYY-MM-DD"') == 2
    assert "UTC days, YYYY-MM-DD" in body


def test_the_csv_download_is_an_attachment(client, staff, tenant):
    # given
    add_event(tenant, failed=True, error_code="timeout")
    client.force_login(staff)

    # when
    response = client.get(csv_url("failures") + "?period=7d")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="claresia-dainese-')
    assert response.content.decode().splitlines() == ["error_code,failures", "timeout,1"]


def test_an_unknown_chart_csv_is_not_found(client, staff, tenant):
    client.force_login(staff)
    assert client.get(csv_url("secrets")).status_code == 404


def test_a_csv_for_a_bad_period_says_why(client, staff, tenant):
    client.force_login(staff)
    response = client.get(csv_url("volume") + "?period=forever")
    assert response.status_code == 400
    assert "Choose one of the periods" in response.content.decode()


# ---- Records -------------------------------------------------------------------------------


def test_records_are_listed_newest_first_with_their_record_link(client, staff, tenant, skill):
    # given
    older = add_record(tenant, skill)
    newer = add_record(tenant, skill)
    HubRecord.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
    client.force_login(staff)

    # when
    body = client.get(RECORDS).content.decode()

    # then
    assert body.index(f'href="/hub/records/{newer.pk}"') < body.index(
        f'href="/hub/records/{older.pk}"'
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("skill=prd-review", {"prd"}),
        ("status=refused", {"refused"}),
        ("estimated=yes", {"estimated"}),
        ("estimated=no", {"prd", "refused"}),
        ("skill=incident-postmortem&estimated=yes", {"estimated"}),
    ],
)
def test_records_are_filtered(client, staff, tenant, skill, query, expected):
    # given
    prd = make_skill(tenant, skill_id="prd-review", name="PRD Review")
    records = {
        "prd": add_record(tenant, prd),
        "refused": add_record(tenant, skill, status=HubRecord.Status.REFUSED),
        "estimated": add_record(tenant, skill, cost_estimated=True, latency_estimated=True),
    }
    client.force_login(staff)

    # when
    body = client.get(f"{RECORDS}?{query}").content.decode()

    # then
    shown = {name for name, record in records.items() if record.pk in body}
    assert shown == expected


def test_records_are_paginated_keeping_the_filters(client, staff, tenant, skill):
    # given
    for _ in range(30):
        add_record(tenant, skill)
    client.force_login(staff)

    # when
    first = client.get(RECORDS + "?skill=incident-postmortem").content.decode()
    second = client.get(RECORDS + "?skill=incident-postmortem&page=2").content.decode()

    # then
    assert first.count('href="/hub/records/rec_') == 25
    assert second.count('href="/hub/records/rec_') == 5
    assert "?tenant=dainese&amp;skill=incident-postmortem&amp;page=2" in first


# ---- View record page ----------------------------------------------------------------------


def test_the_record_page_lists_the_conversations_telemetry_events(
    client, staff, tenant, skill, other_tenant_data
):
    # given: both tenants happen to have a conversation "conv-shared"
    record = add_record(tenant, skill, openai_conversation_id="conv-shared")
    add_event(
        tenant, conversation_id="conv-shared", failed=True, error_code="context_length_exceeded"
    )
    add_event(tenant, conversation_id="conv-other", error_code="", latency_ms=4321)
    client.force_login(staff)

    # when
    body = client.get(f"/hub/records/{record.pk}").content.decode()

    # then
    assert "context_length_exceeded" in body
    assert "4.3 s" not in body
    assert "othercorp_secret_error" not in body


def test_a_record_without_a_conversation_lists_no_events(client, staff, tenant, skill):
    # given
    record = add_record(tenant, skill, cost_estimated=True)
    add_event(tenant, conversation_id="", error_code="timeout", failed=True)
    client.force_login(staff)

    # when
    body = client.get(f"/hub/records/{record.pk}").content.decode()

    # then
    assert "No telemetry event matched yet" in body
    assert "timeout" not in body


# ---- The cost totals: each names what it sums ---------------------------------------------


@pytest.fixture
def a_day_of_costs(tenant, skill):
    """24 h in which OpenAI's telemetry read $6.08 of invocations and the GPTs posted $6.14 of
    records (one run posted no record; one record's invocation is not read yet), and a record
    of two days before."""
    add_event(tenant, cost="3.040000", at=timezone.now() - timedelta(hours=2))
    add_event(tenant, cost="3.040000", at=timezone.now() - timedelta(hours=3))
    posted = add_record(tenant, skill, cost_usd="3.040000")
    estimated = add_record(tenant, skill, cost_usd="3.100000", cost_estimated=True)
    old = add_record(tenant, skill, cost_usd="9.000000")
    HubRecord.objects.filter(pk__in=[posted.pk, estimated.pk]).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    HubRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))


def test_the_telemetry_page_names_the_source_of_each_cost_total(client, staff, a_day_of_costs):
    # given
    client.force_login(staff)

    # when
    body = client.get(f"{TELEMETRY}?period=24h").content.decode()

    # then
    totals = re.sub(r"\s+", " ", body[body.index('id="cost-totals"') :].split("</p>")[0])
    assert "$6.0800 is the cost of the 2 invocations read from OpenAI in this period" in totals
    assert "The 2 records your skills posted to the hub in the same period" in totals
    assert "add up to $6.1400" in totals
    assert "(1 estimated)" in totals
    assert "?tenant=dainese&amp;period=24h" in totals


def test_the_records_page_totals_the_same_period_as_the_telemetry_page(
    client, staff, a_day_of_costs
):
    # given
    client.force_login(staff)

    # when
    day = client.get(f"{RECORDS}?period=24h").content.decode()
    any_time = client.get(RECORDS).content.decode()

    # then
    assert "2 records posted 2026-11-24 12:30 UTC – 2026-11-25 12:30 UTC: $6.1400 in all" in day
    assert "1 of the costs estimated" in day
    assert "3 records: $15.1400 in all" in any_time


def test_a_bad_records_period_is_refused_with_a_message(client, staff, a_day_of_costs):
    # given
    client.force_login(staff)

    # when
    response = client.get(f"{RECORDS}?from=2026-11-25")

    # then
    assert response.status_code == 400
    assert "Give both “from” and “to”" in response.content.decode()
    assert "3 records: $15.1400 in all" in response.content.decode()


# ---- One way to write a time ---------------------------------------------------------------


def test_the_records_page_and_a_record_write_times_with_their_zone(client, staff, tenant, skill):
    # given a record posted an hour ago
    record = add_record(tenant, skill)
    HubRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(hours=1))
    client.force_login(staff)

    # when
    listed = client.get(RECORDS).content.decode()
    shown = client.get(f"/hub/records/{record.pk}").content.decode()

    # then
    assert 'data-label="When">2026-11-25 11:30 UTC</td>' in listed
    assert "<dt>When</dt><dd>2026-11-25 11:30 UTC</dd>" in shown


def test_no_command_center_or_hub_template_writes_a_time_without_the_when_filter():
    # given the templates of the pages a customer reads
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    templates = [*root.glob("command_center/*.html"), *root.glob("hub/*.html")]

    # then every date and time goes through `when` ("2026-12-03 08:21 UTC")
    written = [str(t.relative_to(root)) for t in templates if '|date:"Y-m-d H' in t.read_text()]
    assert templates and written == []

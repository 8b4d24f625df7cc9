"""The run-through a new user makes: every Command Center page and the key admin pages, as the
tenant's staff and as Claresia staff, at 1280 px and 390 px. Each page is screenshotted under the
test's tmp_path, has no sideways scroll and no overlapping nav on a phone, and axe-core finds no
serious or critical accessibility violation on the Command Center pages and the record page."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from rest_framework.test import APIClient

from claresia.models import Tenant
from connectors.models import Connector
from demo.loader import demo_load, demo_skills_publish, demo_test_connection
from telemetry.hub.models import GovernanceEvent
from telemetry.hub.services import hub_token_issue
from telemetry.ingest.reconcile import MISSING_MESSAGE
from telemetry.models import PollCursor, TelemetryEvent
from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PASSWORD = "a-long-test-passphrase"
WIDTHS = {"desktop": 1280, "phone": 390}
COMMAND_CENTER = [
    "/command-center/?tenant=dainese",
    "/command-center/distribution/?tenant=dainese",
    "/command-center/distribution/openai/export/?tenant=dainese",
    "/command-center/distribution/openai/publish/?tenant=dainese",
    "/command-center/distribution/plugin/?tenant=dainese",
    "/command-center/telemetry/?tenant=dainese",
    "/command-center/records/?tenant=dainese",
]
ADMIN = [
    "/admin/",
    "/admin/connectors/connector/",
    "/admin/skills/skill/",
    "/admin/skills/skill/import/",
    "/admin/telemetry/pollcursor/",
    "/admin/telemetry/telemetryevent/",
    "/admin/telemetry/hubrecord/",
    "/admin/telemetry/governanceevent/",
]
# Changelists whose whole table fits at 1280 px, beside the filters: no sideways scroll of the
# results either (the demo has a connector and three published skills).
FITS = [
    "/admin/connectors/connector/",
    "/admin/skills/skill/",
    "/admin/telemetry/pollcursor/",
    "/admin/telemetry/telemetryevent/",
    "/admin/telemetry/hubrecord/",
    "/admin/telemetry/governanceevent/",
]


@pytest.fixture
def demo(transactional_db, sandbox):
    tenant, logins = demo_load(password=PASSWORD)
    demo_test_connection(tenant)
    demo_skills_publish(tenant)
    hub = APIClient()
    hub.credentials(HTTP_AUTHORIZATION=f"Bearer {hub_token_issue(tenant=tenant).plaintext}")
    record = hub.post(
        "/hub/v1/records",
        {
            "skill_id": "prd-review",
            "output": "# Verdict\nReady with changes.",
            "usage": {"input_tokens": 1200, "output_tokens": 300},
            "latency_ms": 2300,
        },
        format="json",
    ).json()
    event = _telemetry_rows(tenant)
    # A second tenant: Claresia staff then get the Tenant menu in the header.
    Tenant.objects.create(slug="othercorp-international", name="Othercorp International Holdings")
    return logins, record, event.pk


def _telemetry_rows(tenant) -> GovernanceEvent:
    """A row in each telemetry list, with the long values a real day brings."""
    now = timezone.now()
    skill = tenant.skills.get(skill_id="prd-review")
    PollCursor.objects.update_or_create(
        tenant=tenant,
        defaults={
            "last_poll_at": now,
            "last_error": "OpenAI unavailable: HTTP 503 " + "(retried three times) " * 6,
            "last_error_at": now,
            "last_stored": 1234,
            "last_skipped": 56,
        },
    )
    TelemetryEvent.objects.create(
        tenant=tenant,
        skill=skill,
        skill_ref=skill.skill_id,
        source=TelemetryEvent.Source.COMPLIANCE_LOGS,
        source_event_id="evt-run-through",
        event_type=TelemetryEvent.EventType.INVOKED,
        occurred_at=now,
        actor_email="a.very.long.name.for.a.person@dainese.example",
        gpt_name=skill.gpt_name,
        conversation_id="conv-run-through",
        model="gpt-4o-2024-08-06",
        raw={},
    )
    return GovernanceEvent.objects.create(
        tenant=tenant,
        skill=skill,
        kind=GovernanceEvent.Kind.HUB_RECORD_MISSING,
        message=MISSING_MESSAGE.format(skill="PRD Review"),
        dedupe_key="run-through",
        occurred_at=now,
    )


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def check_page(page, url: str, shots, name: str, width: int) -> None:
    response = page.goto(url)
    assert response.status < 400, f"{url}: HTTP {response.status}"
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    # no sideways scroll
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{url} scrolls sideways at {width} px ({scroll} px wide)"


def nav_overlaps(page) -> bool:
    return page.evaluate(
        """() => {
          const boxes = [...document.querySelectorAll('header .bar > *, header nav a')]
            .map(e => e.getBoundingClientRect()).filter(r => r.width && r.height);
          const nav = document.querySelector('header nav').getBoundingClientRect();
          const others = [...document.querySelectorAll('header .bar > :not(nav)')]
            .map(e => e.getBoundingClientRect());
          return others.some(r => r.left < nav.right && r.right > nav.left
                                  && r.top < nav.bottom && r.bottom > nav.top);
        }"""
    )


def header_fits(page, width: int) -> bool:
    """At 1280 px the header is one line (56 px); on a phone it wraps into at most three
    lines and every nav item is wholly visible (the nav scrolls, never cuts a word)."""
    return page.evaluate(
        """(width) => {
          const bar = document.querySelector('header .bar').getBoundingClientRect();
          if (width >= 1000) return bar.height <= 60;
          const nav = document.querySelector('header nav').getBoundingClientRect();
          return [...document.querySelectorAll('header nav a')].every(a => {
            const r = a.getBoundingClientRect();
            return r.left >= nav.left - 1 && r.right <= nav.right + 1;
          });
        }""",
        width,
    )


def plugin_remote_walk(page, shots, who: str, width: int) -> list[str]:
    """The Plugin page's repository form: a refused URL is said beside the field, the pasted
    token kept; axe checks the page with the error shown."""
    page.goto("/command-center/distribution/plugin/?tenant=dainese")
    page.get_by_label("Repository URL").fill("ssh://git.example.com/plugins.git")
    page.get_by_label("Access token").fill("ghp_run-through-token-0001")
    page.get_by_role("button", name="Save repository").click()
    page.screenshot(path=str(shots / f"{who}-plugin-remote-error.png"), full_page=True)
    assert page.get_by_text("Only HTTPS git remotes are supported").count() == 1
    assert page.get_by_label("Access token").input_value() == "ghp_run-through-token-0001"
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the plugin form scrolls sideways at {width} px"
    return [f"plugin remote form: {p}" for p in serious_violations(page)]


def hub_token_copy_walk(page) -> list[str]:
    """Hub tokens → Add: the only tenant is chosen; the minted token's Copy button works under
    the production Content-Security-Policy (its script is a static file)."""
    page.goto("/admin/telemetry/hubtoken/add/")
    if page.locator("#id_tenant option").count() == 2:  # the empty choice and the one tenant
        assert page.locator("#id_tenant").input_value() != ""
    else:
        page.select_option("#id_tenant", label="Dainese")
    page.fill("#id_name", "run-through")
    page.click("input[name=_save]")
    # The button's script is deferred: click once the page (and so copy.js) has loaded.
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Copy token").click()
    status = page.locator("#hub-token-copied")
    status.wait_for(state="visible")
    assert status.inner_text() in ("Copied.", "Selected: press Ctrl-C (⌘-C) to copy.")
    return [f"hub token minted: {p}" for p in serious_violations(page)]


def connector_page_walk(page, width: int) -> None:
    """The connector's admin page: the whole workspace id in its box, no sideways scroll."""
    connector = Connector.objects.get(tenant__slug="dainese")
    page.goto(f"/admin/connectors/connector/{connector.pk}/change/")
    box = page.locator("#id_workspace_id")
    box.fill("3f1e8a4c-5b6d-4e7f-8a9b-0c1d2e3f4a5b")
    shown = box.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert shown, f"the workspace id is cut in its box at {width} px"
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the connector page scrolls sideways at {width} px ({scroll} px)"


def assert_whole_record_on_screen(page, width: int) -> None:
    """Every field of a record is on screen, a phone's too: no column hidden past the edge."""
    for cell in (
        page.locator('td[data-label="Cost"]').first,
        page.locator('td[data-label="Latency"]').first,
        page.get_by_role("link", name="View record: PRD Review").first,
    ):
        box = cell.bounding_box()
        assert box and box["x"] + box["width"] <= width, f"Records: {cell} is off screen"


def record_link_walk(browser, live_server, url: str, shots, who: str, width: int) -> list[str]:
    """The footer's View record link, opened by an end user with no Claresia login."""
    path = url.split("/hub/records/", 1)[1]
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    try:
        response = page.goto(f"/hub/records/{path}")
        assert response.status == 200, f"the footer's link: HTTP {response.status}"
        page.screenshot(path=str(shots / f"{who}-record-link.png"), full_page=True)
        assert page.get_by_text("read only, until").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        return [f"record link: {p}" for p in serious_violations(page)]
    finally:
        context.close()


@pytest.mark.parametrize("device", list(WIDTHS))
def test_the_run_through_as_tenant_staff_and_claresia_staff(
    browser, live_server, demo, tmp_path, device
):
    logins, record, event_id = demo
    record_id = record["id"]
    pages = [
        *COMMAND_CENTER,
        f"/command-center/governance/{event_id}/?tenant=dainese",
        f"/hub/records/{record_id}",
    ]
    width = WIDTHS[device]
    shots = tmp_path / device
    shots.mkdir()
    for who, username in (
        ("tenant-staff", logins.staff_username),
        ("claresia-staff", logins.superuser_username),
    ):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": 900}
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            log_in(page, username, PASSWORD)
            problems = []
            for number, url in enumerate(pages):
                check_page(page, url, shots, f"{who}-cc-{number}", width)
                if url.startswith("/command-center/"):
                    assert not nav_overlaps(page), f"{url}: the nav overlaps at {width} px"
                    assert header_fits(page, width), f"{url}: the header breaks at {width} px"
                    assert page.get_by_role("link", name="Skip to content").count() == 1
                    if who == "claresia-staff" and number == 0:
                        assert page.get_by_label("Tenant").count() == 1  # its accessible name
                    # the header: who is signed in, a way out, the admin for staff
                    assert page.get_by_role("button", name="Log out").count() == 1
                    assert page.get_by_role("link", name="Admin", exact=True).count() == 1
                else:
                    assert page.locator("main").count() == 1
                    assert page.locator("h1").count() == 1
                problems += [f"{url}: {p}" for p in serious_violations(page)]
                if url.startswith("/command-center/records/"):
                    assert_whole_record_on_screen(page, width)
            problems += plugin_remote_walk(page, shots, who, width)
            connector_page_walk(page, width)
            problems += hub_token_copy_walk(page)
            problems += record_link_walk(browser, live_server, record["url"], shots, who, width)
            assert problems == [], "\n".join(problems)
            # the overview's poll health is a state with its meaning, never a bare "Healthy"
            page.goto("/command-center/?tenant=dainese")
            assert page.locator("#poll h2 .pill").inner_text() in (
                "Healthy",
                "Stale",
                "Failing",
                "Not polled yet",
            )
            for number, url in enumerate(ADMIN):
                check_page(
                    page, url, shots, f"{who}-admin-{number}", width if width > 400 else 10_000
                )
                if width == 1280 and url != "/admin/skills/skill/import/":
                    assert page.get_by_role("link", name="Command Center").count() >= 1
                    table = page.locator("#result_list")
                    if table.count():
                        box = table.bounding_box()
                        assert box["x"] + box["width"] <= width, f"{url}: the table overflows"
                    if url in FITS:
                        assert page.locator("#result_list tbody tr").count() >= 1, url
                        results = page.evaluate(
                            "(() => { const r = document.querySelector('#changelist .results');"
                            " return [r.scrollWidth, r.clientWidth]; })()"
                        )
                        assert results[0] <= results[1], f"{url}: the table scrolls sideways"
        finally:
            context.close()
    assert len(list(shots.glob("*.png"))) == 2 * (len(pages) + 2 + len(ADMIN))

"""Junk in a request is the sender's error, said in a 4xx, never a 500: control characters in
any parameter (400) or in the path (404), dates at the end of the calendar, and the admin's Add
skill page."""

import pytest
from django.urls import reverse

from claresia.middleware import RejectControlCharactersMiddleware
from tests.factories import make_user

RECORDS = "/command-center/records/"
TELEMETRY = "/command-center/telemetry/"


@pytest.fixture
def logged_in_staff(client, staff):
    client.force_login(staff)
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(
    "url",
    [
        RECORDS + "?skill=%00",
        RECORDS + "?status=a%00b",
        RECORDS + "?tenant=dainese&estimated=%01",
        "/admin/skills/skill/?gpt_status=%00",
        "/admin/skills/publishrun/?status__exact=%00",
        "/admin/skills/skill/?q=%00",
        TELEMETRY + "?from=2026-11-01%00&to=2026-11-02",
    ],
)
def test_a_control_character_in_a_query_is_a_400(logged_in_staff, skill, url):
    # when
    response = logged_in_staff.get(url)

    # then
    assert response.status_code == 400
    assert "control character" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/command-center/%00/",
        "/admin/skills/skill/%00/change/",
        "/admin/telemetry/hubrecord/rec_%00/change/",
        "/hub/records/rec_%00",
        "/hub/v1/records/rec_%00",
    ],
)
def test_a_control_character_in_the_path_is_a_404(logged_in_staff, skill, url):
    # when
    response = logged_in_staff.get(url)

    # then: no address holds one
    assert response.status_code == 404
    assert "control character" in response.content.decode()


def test_a_control_character_in_a_posted_field_is_a_400(logged_in_staff, tenant, skill):
    # when: the publish form, its skill field holding a NUL
    response = logged_in_staff.post(
        reverse("command_center:publish_start"), {"tenant": tenant.slug, "skill": "a\x00"}
    )

    # then
    assert response.status_code == 400
    assert "“skill”" in response.content.decode()


def test_tabs_and_newlines_in_a_posted_field_are_fine(rf):
    # given: a form field as a textarea sends it
    request = rf.post("/admin/", {"description": "Line one\r\n\tLine two"})

    # when
    response = RejectControlCharactersMiddleware(lambda r: "passed on")(request)

    # then: the request goes on to its view
    assert response == "passed on"


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-12-30&to=9999-12-31",
        "from=9999-12-31&to=9999-12-31",
        "from=0001-01-01&to=0001-01-01",
    ],
)
@pytest.mark.parametrize("url", [TELEMETRY, TELEMETRY + "volume.csv"])
def test_dates_at_the_end_of_the_calendar_are_a_clear_400(logged_in_staff, skill, url, query):
    # when
    response = logged_in_staff.get(f"{url}?{query}")

    # then
    if query.startswith("from=0001"):
        assert response.status_code == 200  # the first day is a day like any other
    else:
        assert response.status_code == 400
        assert "on or before 9999-12-30" in response.content.decode()


def test_the_add_skill_page_leads_to_the_import_page(logged_in_staff):
    # when
    response = logged_in_staff.get(reverse("admin:skills_skill_add"))

    # then: skills are created by import
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:skills_skill_import")


def test_the_add_skill_page_refuses_a_viewer(client, tenant):
    # given
    client.force_login(make_user("viewer", tenants=[tenant], role="viewer"))

    # when
    response = client.get(reverse("admin:skills_skill_add"))

    # then
    assert response.status_code == 403


def test_the_skill_changelist_offers_import_not_add(logged_in_staff):
    # when
    page = logged_in_staff.get(reverse("admin:skills_skill_changelist")).content.decode()

    # then
    tools = page.split('<ul class="object-tools">', 1)[1].split("</ul>", 1)[0]
    assert reverse("admin:skills_skill_import") in tools
    assert reverse("admin:skills_skill_add") not in tools


def test_the_skill_change_form_shows_its_bundle_link(logged_in_staff, skill):
    # when
    response = logged_in_staff.get(reverse("admin:skills_skill_change", args=[skill.pk]))

    # then
    assert response.status_code == 200
    assert reverse("admin:skills_skill_bundle", args=[skill.pk]) in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "occurred_at__year=9999&occurred_at__month=12&occurred_at__day=31",
        "occurred_at__year=9999",
        "occurred_at__year=99999999999999999999",
    ],
)
def test_the_admin_date_drill_down_at_the_end_of_the_calendar_is_not_a_500(
    client, superuser, query
):
    # given
    client.force_login(superuser)
    client.raise_request_exception = False

    # when
    response = client.get(f"/admin/telemetry/telemetryevent/?{query}")

    # then: the admin's own answer to a bad filter
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_the_login_throttles_records_answer_a_junk_date_drill_down_too(client, superuser):
    # given
    client.force_login(superuser)
    client.raise_request_exception = False

    # when
    response = client.get("/admin/axes/accessattempt/?attempt_time__year=9999")

    # then
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")

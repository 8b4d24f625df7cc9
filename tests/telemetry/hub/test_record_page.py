import json
from html.parser import HTMLParser

import pytest

from telemetry.hub.markdown import render_markdown
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def record_id(hub, skill):
    body = {
        "skill_id": skill.skill_id,
        "inputs": {"incident_id": "INC-4121"},
        "output": "## Summary\n**Failover** worked.",
        "usage": {"input_tokens": 100, "output_tokens": 50},
        "latency_ms": 2300,
    }
    response = hub.post(
        "/hub/v1/records",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_OPENAI_EPHEMERAL_USER_ID="user-eph-7",
    )
    return response.json()["id"]


def test_the_page_requires_login(client, record_id):
    # when
    response = client.get(f"/hub/records/{record_id}")

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_tenants_staff_see_the_record(client, staff, record_id):
    # given
    client.force_login(staff)

    # when
    response = client.get(f"/hub/records/{record_id}")

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert "Incident Postmortem" in page
    # the output's own headings sit under the page's "Output" (h2) in order: one <h1>, in <main>
    assert "<h3>Summary</h3>" in page and "<strong>Failover</strong>" in page
    assert page.count("<h1") == 1 and "<main>" in page
    assert "INC-4121" in page
    assert "user-eph-7" in page
    assert "$0.00" in page and "2.3 s" in page


def test_a_superuser_sees_any_tenants_record(client, superuser, record_id):
    # given
    client.force_login(superuser)

    # when / then
    assert client.get(f"/hub/records/{record_id}").status_code == 200


def test_another_tenants_staff_get_a_404(client, other_tenant, record_id):
    # given
    client.force_login(make_user("other-staff", tenants=[other_tenant]))

    # when / then
    assert client.get(f"/hub/records/{record_id}").status_code == 404


def test_a_member_who_is_not_staff_gets_a_404(client, tenant, record_id):
    # given
    user = make_user("plain-member", tenants=[tenant])
    user.is_staff = False
    user.save()
    client.force_login(user)

    # when / then
    assert client.get(f"/hub/records/{record_id}").status_code == 404


def test_a_refused_record_page_shows_no_output(client, staff, hub, skill):
    # given
    answer = hub.post(
        "/hub/v1/records",
        data=json.dumps({"skill_id": skill.skill_id, "status": "refused", "output": "secret"}),
        content_type="application/json",
    ).json()
    client.force_login(staff)

    # when
    page = client.get(f"/hub/records/{answer['id']}").content.decode()

    # then
    assert "secret" not in page
    assert "did not share" in page


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


@pytest.mark.parametrize(
    "output",
    [
        "<script>alert(1)</script>",
        "hi <img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](java\tscript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "![x](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<svg onload=alert(1)>",
    ],
)
def test_no_script_survives_rendering(output):
    # when
    elements = _Elements(render_markdown(output))

    # then
    assert not {"script", "svg", "iframe", "object"} & set(elements.tags)
    for name, value in elements.attributes:
        assert not name.startswith("on")
        assert not value.strip().lower().startswith(("javascript:", "data:", "vbscript:"))


def test_safe_links_and_formatting_are_kept():
    # when
    html = render_markdown("**bold** and [docs](https://docs.example/x)")

    # then
    assert "<strong>bold</strong>" in html
    assert '<a href="https://docs.example/x" rel="noopener noreferrer nofollow">docs</a>' in html


def test_a_script_in_a_record_never_reaches_the_page(client, staff, hub, skill):
    # given
    output = "Hello <script>alert('x')</script> [c](javascript:alert(2))"
    answer = hub.post(
        "/hub/v1/records",
        data=json.dumps({"skill_id": skill.skill_id, "output": output}),
        content_type="application/json",
    ).json()
    client.force_login(staff)

    # when
    page = client.get(f"/hub/records/{answer['id']}").content.decode()

    # then: both are shown as text only
    elements = _Elements(page)
    assert "script" not in elements.tags
    assert all("javascript" not in value for _, value in elements.attributes)
    assert "&lt;script&gt;" in page


def test_a_malformed_id_on_the_page_is_a_404(client, staff):
    # given
    client.force_login(staff)

    # when / then
    assert client.get("/hub/records/rec_%00").status_code == 404

"""The Command Center asks of a user what the admin asks: an active staff account with a tenant
membership (or a superuser, still staff). A member whose staff flag is removed loses every page at
once, live session or not; so does a superuser without it. Checked on every Command Center URL."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from skills.models import PublishRun
from telemetry.models import HubRecord
from tests.command_center.helpers import add_record
from tests.factories import make_user


def command_center_urls() -> list[tuple[str, dict]]:
    """(URL name, path parameters) of every Command Center URL pattern."""
    (resolver,) = [
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and p.namespace == "command_center"
    ]
    found = []
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern)
        found.append((pattern.name, sorted(pattern.pattern.converters)))
    return found


def url_for(name: str | None, params: list[str], run: PublishRun) -> str:
    values = {"run_id": run.pk, "event_id": 1, "chart": "volume", "mapping_id": 1}
    if name is None:  # the redirect of the old Distribution → OpenAI address
        return "/command-center/distribution/openai/"
    return reverse(f"command_center:{name}", kwargs={p: values[p] for p in params})


URLS = command_center_urls()


@pytest.fixture
def run(tenant, skill, superuser):
    return PublishRun.objects.create(
        tenant=tenant, started_by=superuser, skill_ids=[skill.skill_id], total=1
    )


def _no_longer_staff(user):
    user.is_staff = False
    user.save(update_fields=["is_staff"])
    return user


def _refused(response) -> bool:
    if response.status_code in (403, 404, 405):
        return True
    final = response.redirect_chain[-1][0] if response.redirect_chain else ""
    return response.status_code == 200 and final.startswith("/admin/login/")


def test_every_command_center_url_is_checked():
    # then: the names the attack run used are among the URLs below
    names = {name for name, _ in URLS}
    assert {"overview", "records", "export_download", "publish_start", "publish_run"} <= names


@pytest.mark.parametrize(("name", "params"), URLS, ids=[str(n) for n, _ in URLS])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_member_whose_staff_flag_was_removed_is_refused_with_a_live_session(
    client, tenant, skill, run, name, params, method, django_capture_on_commit_callbacks
):
    # given: a tenant admin logged in, then their staff flag removed
    member = make_user("former-staff", tenants=[tenant])
    client.force_login(member)
    _no_longer_staff(member)

    # when
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = getattr(client, method)(
            url_for(name, params, run),
            {"tenant": tenant.slug, "skill": skill.skill_id},
            follow=True,
        )

    # then
    assert _refused(response), (response.status_code, response.redirect_chain)
    assert queued == []
    assert PublishRun.objects.count() == 1


@pytest.mark.parametrize(("name", "params"), URLS, ids=[str(n) for n, _ in URLS])
def test_a_superuser_without_the_staff_flag_is_refused(client, tenant, skill, run, name, params):
    # given
    root = make_user("root-not-staff", superuser=True)
    client.force_login(_no_longer_staff(root))

    # when
    response = client.get(url_for(name, params, run), {"tenant": tenant.slug}, follow=True)

    # then
    assert _refused(response), (response.status_code, response.redirect_chain)


@pytest.mark.parametrize(("name", "params"), URLS, ids=[str(n) for n, _ in URLS])
def test_an_inactive_member_is_refused(client, tenant, skill, run, name, params):
    # given
    member = make_user("deactivated", tenants=[tenant])
    client.force_login(member)
    member.is_active = False
    member.save(update_fields=["is_active"])

    # when
    response = client.get(url_for(name, params, run), {"tenant": tenant.slug}, follow=True)

    # then
    assert _refused(response), (response.status_code, response.redirect_chain)


@pytest.mark.parametrize("superuser_flag", [False, True])
def test_the_record_page_asks_the_same(client, tenant, skill, superuser_flag):
    # given: the hub record page, opened by someone who is no longer staff
    record: HubRecord = add_record(tenant, skill)
    user = make_user("no-staff", tenants=[tenant], superuser=superuser_flag)
    client.force_login(_no_longer_staff(user))

    # when
    response = client.get(f"/hub/records/{record.pk}")

    # then
    assert response.status_code == 404


def test_staff_members_still_use_every_page(client, staff, tenant, skill, run):
    # given
    client.force_login(staff)

    # when
    overview = client.get(reverse("command_center:overview"))
    progress = client.get(reverse("command_center:publish_run", args=[run.pk]))
    schema = client.get(reverse("command_center:skill_ir_schema"))

    # then
    assert (overview.status_code, progress.status_code, schema.status_code) == (200, 200, 200)

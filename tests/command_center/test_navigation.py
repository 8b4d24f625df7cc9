"""Ways between the admin and the Command Center, and a first page for a user with no tenant."""

import pytest

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_the_admin_header_links_to_the_command_center(client, superuser):
    # given
    client.force_login(superuser)

    # when
    page = client.get("/admin/").content.decode()

    # then
    assert '<a href="/command-center/">Command Center</a>' in page
    assert "View site" not in page


def test_the_command_center_header_shows_the_user_a_logout_and_the_admin_for_staff(
    client, staff, tenant
):
    # given
    client.force_login(staff)

    # when
    page = client.get("/command-center/").content.decode()

    # then
    assert staff.get_username() in page
    assert 'action="/admin/logout/"' in page and ">Log out</button>" in page
    assert '<a href="/admin/">Admin</a>' in page


def test_a_non_staff_member_gets_no_admin_link(client, tenant):
    # given
    member = make_user("member", tenants=[tenant])
    member.is_staff = False
    member.save()
    client.force_login(member)

    # when
    page = client.get("/command-center/").content.decode()

    # then
    assert '<a href="/admin/">Admin</a>' not in page


def test_a_superuser_on_a_fresh_install_is_told_how_to_create_the_first_tenant(client, superuser):
    # given: no tenant at all
    client.force_login(superuser)

    # when
    response = client.get("/command-center/")

    # then
    body = response.content.decode()
    assert response.status_code == 200  # an empty install is not a refusal
    assert "Create the first tenant" in body
    assert "/admin/claresia/tenant/add/" in body
    assert "manage.py create_tenant" in body


def test_a_user_with_no_tenant_is_told_whom_to_ask(client, db):
    client.force_login(make_user("lonely"))
    response = client.get("/command-center/")
    assert response.status_code == 403
    assert "Ask Claresia staff" in response.content.decode()

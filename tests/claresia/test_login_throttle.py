"""Failed logins are throttled per account and client address (django-axes): guessing stops at
the limit, even the right password then waits out the cool-off, and the client address is the
one the reverse proxy saw (README: Running in production)."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

PASSWORD = "correct horse battery staple"
LOGIN_URL = "/admin/login/"


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


def log_in(client, password, *, username="root", ip="203.0.113.7"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_is_refused_after_too_many_wrong_ones(client, admin_user):
    # given: ten guesses from one address (the limit is at most ten)
    for attempt in range(10):
        log_in(client, f"guess-{attempt}")

    # when
    response = log_in(client, PASSWORD)

    # then
    assert response.status_code == 429
    assert not logged_in(client)
    text = response.content.decode()
    assert "Too many failed logins for this account from this address" in text
    assert "try again in 15 minutes" in text
    assert "ask a Claresia administrator to unlock it" in text


def test_the_lockout_ends_after_the_cool_off(client, admin_user, settings):
    # given
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for attempt in range(settings.AXES_FAILURE_LIMIT):
            log_in(client, f"guess-{attempt}")

    # when
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)):
        response = log_in(client, PASSWORD)

    # then
    assert response.status_code == 302
    assert logged_in(client)


def test_a_success_forgets_earlier_failures(client, admin_user, settings):
    # given: one failure short of the limit, then the right password
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, f"guess-{attempt}")
    log_in(client, PASSWORD)
    client.logout()

    # when: as many failures again, one short of the limit
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, f"again-{attempt}")
    response = log_in(client, PASSWORD)

    # then
    assert response.status_code == 302
    assert logged_in(client)


def test_the_lock_holds_one_account_from_one_address(client, admin_user, settings):
    # given: the account guessed at from one address
    get_user_model().objects.create_superuser("other", password=PASSWORD)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"guess-{attempt}", ip="203.0.113.7")

    # when
    from_elsewhere = log_in(client, PASSWORD, ip="198.51.100.20")
    client.logout()
    other_account = log_in(client, PASSWORD, username="other", ip="203.0.113.7")

    # then: the owner elsewhere, and another account here, still log in
    assert from_elsewhere.status_code == 302
    assert other_account.status_code == 302


def test_force_login_is_not_throttled(client, admin_user, settings):
    # given
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, f"guess-{attempt}")

    # when
    client.force_login(admin_user)

    # then
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "remote_addr", "expected"),
    [
        (0, "", "203.0.113.7", "203.0.113.7"),
        (0, "198.51.100.1", "203.0.113.7", "203.0.113.7"),  # no proxy: the header is the client's
        (1, "203.0.113.7", "10.0.0.2", "203.0.113.7"),
        (1, "192.0.2.66, 203.0.113.7", "10.0.0.2", "203.0.113.7"),  # a forged entry in front
        (2, "203.0.113.7, 10.0.0.1", "10.0.0.2", "203.0.113.7"),
        (1, "", "10.0.0.2", "10.0.0.2"),  # not through the proxy: its peer address
        (1, "not-an-address", "10.0.0.2", "10.0.0.2"),
        (1, "203.0.113.7\x00", "10.0.0.2", "10.0.0.2"),
        (1, "2001:db8::7", "10.0.0.2", "2001:db8::7"),
    ],
)
def test_the_client_address_is_the_one_the_outermost_trusted_proxy_saw(
    settings, proxies, forwarded_for, remote_addr, expected
):
    # given
    from claresia.throttling import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR=forwarded_for)

    # when
    address = client_ip(request)

    # then
    assert address == expected


def test_logins_through_the_proxy_are_throttled_per_client_address(client, admin_user, settings):
    # given: behind one proxy, one client guesses the password
    settings.TRUSTED_PROXY_COUNT = 1
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN_URL,
            {"username": "root", "password": f"guess-{attempt}"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )

    # when: the owner logs in through the same proxy from another address
    response = client.post(
        LOGIN_URL,
        {"username": "root", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )

    # then
    assert response.status_code == 302

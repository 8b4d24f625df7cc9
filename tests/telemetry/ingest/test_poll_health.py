"""Poll health: healthy, stale after two missed intervals, failing on an error — each saying what
to do. Pure: the cursor and `now` are handed in."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telemetry.models import PollCursor
from telemetry.selectors import PollHealth, poll_health_of

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
State = PollHealth.State


def health(**cursor_fields) -> PollHealth:
    cursor = PollCursor(**cursor_fields) if cursor_fields else None
    return poll_health_of(cursor=cursor, newest_event_at=None, now=NOW, interval=60)


def test_a_poll_that_succeeded_within_two_intervals_is_healthy():
    # when
    result = health(last_success_at=NOW - timedelta(seconds=119))

    # then
    assert (result.state, result.advice) == (State.HEALTHY, "")


def test_two_missed_intervals_make_the_poll_stale_and_say_to_start_the_poller():
    # when: the poller died 7 minutes ago
    result = health(last_success_at=NOW - timedelta(minutes=7))

    # then
    assert result.state == State.STALE
    assert result.label == "Stale"
    assert "7\xa0minutes" in result.advice
    assert "poller is probably not running" in result.advice


def test_an_error_after_the_last_success_is_failing_and_says_what_to_fix():
    # when
    result = health(
        last_success_at=NOW - timedelta(minutes=5),
        last_error="OpenAI rejected the Compliance key",
        last_error_at=NOW - timedelta(seconds=30),
    )

    # then
    assert result.state == State.FAILING
    assert "Fix what the error says" in result.advice


def test_an_old_error_followed_by_a_success_is_healthy():
    result = health(
        last_success_at=NOW - timedelta(seconds=30),
        last_error="a blip",
        last_error_at=NOW - timedelta(minutes=5),
    )
    assert result.state == State.HEALTHY


@pytest.mark.parametrize("fields", [{}, {"last_poll_at": NOW}])
def test_never_polled_says_so(fields):
    assert health(**fields).state == State.NOT_POLLED


def test_the_interval_comes_from_the_setting(settings):
    # given
    settings.TELEMETRY_POLL_INTERVAL = 600
    cursor = PollCursor(last_success_at=NOW - timedelta(minutes=7))

    # when
    result = poll_health_of(cursor=cursor, newest_event_at=None, now=NOW)

    # then
    assert result.state == State.HEALTHY


@pytest.mark.django_db
def test_the_admin_telemetry_polls_list_shows_a_stale_poll_and_what_to_do(
    client, superuser, tenant
):
    # given
    PollCursor.objects.create(tenant=tenant, last_success_at=timezone.now() - timedelta(minutes=8))
    client.force_login(superuser)

    # when
    body = client.get(reverse("admin:telemetry_pollcursor_changelist")).content.decode()

    # then
    assert "Stale" in body
    assert "poller is probably not running" in body

import pytest

from telemetry.hub.hotcache import TTLCache
from telemetry.hub.models import HubRecord


def test_an_entry_is_forgotten_after_its_time(monkeypatch):
    # given
    now = [100.0]
    monkeypatch.setattr("telemetry.hub.hotcache.time.monotonic", lambda: now[0])
    memory = TTLCache(seconds=5)
    memory.put("key", "value")

    # when
    now[0] = 105.0

    # then
    assert memory.get("key") is None


def test_an_entry_is_kept_within_its_time(monkeypatch):
    # given
    now = [100.0]
    monkeypatch.setattr("telemetry.hub.hotcache.time.monotonic", lambda: now[0])
    memory = TTLCache(seconds=5)
    memory.put("key", "value")

    # when
    now[0] = 104.9

    # then
    assert memory.get("key") == "value"


def test_a_full_memory_starts_over_instead_of_growing():
    # given
    memory = TTLCache(seconds=5, max_entries=2)
    memory.put("a", 1)
    memory.put("b", 2)

    # when
    memory.put("c", 3)

    # then
    assert (memory.get("a"), memory.get("b"), memory.get("c")) == (None, None, 3)


@pytest.mark.django_db
def test_deleting_a_skill_is_seen_by_the_next_call(hub, skill):
    # given: a call that made this process remember the skill
    body = {"skill_id": skill.skill_id, "output": "done", "record_key": "first"}
    assert hub.post("/hub/v1/records", body, format="json").status_code == 201

    # when
    HubRecord.objects.all().delete()  # records protect their skill
    skill.delete()
    response = hub.post("/hub/v1/records", {**body, "record_key": "second"}, format="json")

    # then
    assert response.status_code == 404

"""On PostgreSQL the hub's record INSERT is a prepared statement (services._insert_cursor), unless
HUB_PREPARED_INSERT is off; either way a repeat is still the first record."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telemetry.hub.models import HubRecord
from telemetry.hub.services import hub_record_emit

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


def _prepared_inserts() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f'INSERT INTO "{HubRecord._meta.db_table}"%'],
        )
        return cursor.fetchone()[0]


def test_the_insert_is_prepared_and_a_repeat_is_the_first_record(tenant, skill):
    # when
    first = hub_record_emit(tenant=tenant, skill_id=skill.skill_id, output="a", record_key="k")
    prepared = _prepared_inserts()
    repeat = hub_record_emit(tenant=tenant, skill_id=skill.skill_id, output="b", record_key="k")

    # then
    assert prepared == 1
    assert first.created and not repeat.created
    assert repeat.record.pk == first.record.pk
    assert HubRecord.objects.get().output == "a"


def test_the_insert_is_logged_when_queries_are(tenant, skill):
    with CaptureQueriesContext(connection) as queries:
        hub_record_emit(tenant=tenant, skill_id=skill.skill_id, output="a")

    # Django's generic form (QUERY = '…' - PARAMS = (…)): the statement is not quoted client-side.
    assert [q for q in queries if f'INSERT INTO "{HubRecord._meta.db_table}"' in q["sql"]]


def test_without_hub_prepared_insert_nothing_is_prepared(tenant, skill, settings):
    # given
    settings.HUB_PREPARED_INSERT = False

    # when
    result = hub_record_emit(tenant=tenant, skill_id=skill.skill_id, output="a")

    # then
    assert result.created
    assert _prepared_inserts() == 0

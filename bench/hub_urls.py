"""The app's URLs plus the baseline of bench_hub: a bare view doing one INSERT."""

import json
import secrets

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from claresia.urls import urlpatterns as app_urlpatterns

BARE_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_bare_record (
    id varchar(30) PRIMARY KEY,
    tenant_id bigint NOT NULL,
    skill_id varchar(48) NOT NULL,
    record_key varchar(200) NOT NULL,
    inputs jsonb NOT NULL,
    output text NOT NULL,
    cost_usd numeric(16, 6) NOT NULL,
    latency_ms integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


@csrf_exempt
def bare_insert(request):
    body = json.loads(request.body)
    record_id = "rec_" + secrets.token_hex(13)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_bare_record "
            "(id, tenant_id, skill_id, record_key, inputs, output, cost_usd, latency_ms) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                record_id,
                1,
                body["skill_id"],
                body["record_key"],
                json.dumps(body["inputs"]),
                body["output"],
                0,
                body["latency_ms"],
            ],
        )
    return JsonResponse({"id": record_id}, status=201)


urlpatterns = [*app_urlpatterns, path("bench/bare", bare_insert)]

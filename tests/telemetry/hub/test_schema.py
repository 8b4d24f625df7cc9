import json

import pytest
from django.core.management import call_command

from skills.hub_action import ACTION_SCHEMA_PATH, action_schema_cut
from skills.targets.custom_gpt.transpiler import DESCRIPTION_LIMIT as MAX_OPERATION_DESCRIPTION
from telemetry.hub.schema import action_schema_json, hub_openapi_document

pytestmark = pytest.mark.django_db


def test_the_schema_endpoint_serves_openapi_3_1_with_emit_hub_record(client):
    # when
    response = client.get("/hub/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    # then
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"] == "3.1.0"
    post = document["paths"]["/hub/v1/records"]["post"]
    assert post["operationId"] == "emit_hub_record"
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_schema = document["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert set(request_schema["required"]) == {"skill_id", "output"}
    answer = post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    answer_schema = document["components"]["schemas"][answer.rsplit("/", 1)[1]]
    assert set(answer_schema["properties"]) == {"id", "url", "footer", "cost_usd", "latency_ms"}
    assert post["security"] == [{"bearerAuth": []}]


def test_the_committed_action_schema_is_what_the_code_generates():
    # when
    generated = action_schema_json()

    # then (regenerate with `manage.py hub_action_schema` after changing the API)
    assert ACTION_SCHEMA_PATH.read_text(encoding="utf-8") == generated


def test_the_action_schema_holds_only_emit_hub_record_and_what_it_references():
    # when
    document = action_schema_cut(hub_openapi_document(), server_url="https://hub.example")

    # then
    assert document["servers"] == [{"url": "https://hub.example"}]
    assert list(document["paths"]) == ["/hub/v1/records"]
    assert list(document["paths"]["/hub/v1/records"]) == ["post"]
    text = json.dumps(document)
    for name in document["components"]["schemas"]:
        assert f"#/components/schemas/{name}" in text
    assert "HubRecordDetail" not in document["components"]["schemas"]
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer"}
    }
    assert document["security"] == [{"bearerAuth": []}]
    operation = document["paths"]["/hub/v1/records"]["post"]
    assert len(operation["description"]) <= MAX_OPERATION_DESCRIPTION


def test_hub_action_schema_command_prints_the_committed_text(capsys):
    # when
    call_command("hub_action_schema", "--print")

    # then
    assert capsys.readouterr().out == action_schema_json()


def test_the_served_schema_is_the_generated_document(client):
    # when
    response = client.get("/hub/v1/schema?format=json")

    # then: what the fuzz tests and the action schema are built from
    assert json.loads(response.content) == json.loads(json.dumps(hub_openapi_document()))


def test_the_committed_action_schema_is_the_cut_of_what_the_hub_serves(client):
    # given the document the hub serves
    served = json.loads(client.get("/hub/v1/schema?format=json").content)

    # when the GPT action is cut from it
    action = action_schema_cut(served)

    # then it is the file the skills services hand to the transpiler
    assert json.loads(ACTION_SCHEMA_PATH.read_text(encoding="utf-8")) == action

"""The hub's OpenAPI 3.1 document (what /hub/v1/schema serves), and the GPT action schema file
written from it.

The action is cut by `skills.hub_action.action_schema_cut`, the one cut; `manage.py
hub_action_schema` writes it to `skills/openapi/emit_hub_record.json`, where the skills services
read it (skills sits below telemetry and cannot build this document: skills.hub_action says
more). A test keeps the file equal to the cut of the served document (hub-records-api.md)."""

from drf_spectacular.generators import SchemaGenerator

from skills.hub_action import action_schema_cut, action_schema_text


def hub_openapi_document() -> dict:
    from telemetry.hub.api_urls import api_urlpatterns

    generator = SchemaGenerator(patterns=api_urlpatterns)
    return generator.get_schema(request=None, public=True)


def action_schema_json() -> str:
    """The committed file's exact text, cut from the document this code builds."""
    return action_schema_text(action_schema_cut(hub_openapi_document()))

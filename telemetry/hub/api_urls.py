"""The hub API's URLs: what /hub/v1/schema documents (and so the GPT action and the MCP tool's
schema). Apart from telemetry.urls so that the schema can be built without the other views."""

from django.urls import path

from telemetry.hub.api import HubRecordsView, HubRecordView

api_urlpatterns = [
    path("hub/v1/records", HubRecordsView.as_view(), name="hub-records"),
    path("hub/v1/records/<str:record_id>", HubRecordView.as_view(), name="hub-record"),
]

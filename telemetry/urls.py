from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from telemetry.hub.api import HubRecordsView, HubRecordView
from telemetry.hub.pages import record_page

# The hub API: also what /hub/v1/schema documents.
api_urlpatterns = [
    path("hub/v1/records", HubRecordsView.as_view(), name="hub-records"),
    path("hub/v1/records/<str:record_id>", HubRecordView.as_view(), name="hub-record"),
]

urlpatterns = [
    *api_urlpatterns,
    path(
        "hub/v1/schema",
        SpectacularAPIView.as_view(patterns=api_urlpatterns, authentication_classes=[]),
        name="hub-schema",
    ),
    path("hub/records/<str:record_id>", record_page, name="hub-record-page"),
]

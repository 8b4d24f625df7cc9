from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from telemetry.app_connection.urls import urlpatterns as app_connection_urlpatterns
from telemetry.hub.api_urls import api_urlpatterns
from telemetry.hub.pages import record_page

urlpatterns = [
    *api_urlpatterns,
    path(
        "hub/v1/schema",
        SpectacularAPIView.as_view(patterns=api_urlpatterns, authentication_classes=[]),
        name="hub-schema",
    ),
    path("hub/records/<str:record_id>", record_page, name="hub-record-page"),
    *app_connection_urlpatterns,
]

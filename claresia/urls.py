from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from claresia.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("command-center/", include("command_center.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("telemetry.urls")),
]

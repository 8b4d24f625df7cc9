from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from claresia.views import favicon, healthz

# A 403 from a Command Center page for a user with no tenant explains how to get one.
handler403 = "command_center.views.errors.permission_denied"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("command-center/", include("command_center.urls")),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on every page (the admin names none): the static icon.
    path("favicon.ico", favicon),
    path("", include("telemetry.urls")),
]

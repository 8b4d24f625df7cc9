from django.urls import path
from django.views.generic import RedirectView

from command_center.pages import command_center_page
from command_center.views import distribution as views
from command_center.views import overview as overview_views
from command_center.views import plugin as plugin_views
from command_center.views import telemetry as telemetry_views

app_name = "command_center"

urlpatterns = [
    path("", overview_views.overview, name="overview"),
    path("connector/test", overview_views.connector_test, name="connector_test"),
    path(
        "governance/<int:event_id>/",
        overview_views.governance_event_page,
        name="governance_event",
    ),
    path(
        "governance/<int:event_id>/review",
        overview_views.governance_review,
        name="governance_review",
    ),
    path(
        "governance/<int:event_id>/reopen",
        overview_views.governance_reopen,
        name="governance_reopen",
    ),
    path("telemetry/", telemetry_views.telemetry_page, name="telemetry"),
    path("telemetry/<str:chart>.csv", telemetry_views.telemetry_csv, name="telemetry_csv"),
    path("telemetry/plugin-skills/", telemetry_views.plugin_skills_page, name="plugin_skills"),
    path(
        "telemetry/plugin-skills/<int:mapping_id>/map",
        telemetry_views.plugin_skill_map,
        name="plugin_skill_map",
    ),
    path("records/", telemetry_views.records_page, name="records"),
    path("distribution/", views.distribution, name="distribution"),
    path(
        "distribution/openai/",
        command_center_page(
            RedirectView.as_view(pattern_name="command_center:export", query_string=True)
        ),
    ),
    path("distribution/openai/export/", views.export, name="export"),
    path("distribution/openai/export/download", views.export_download, name="export_download"),
    path("distribution/openai/publish/", views.publish_start, name="publish_start"),
    path("distribution/openai/publish/<int:run_id>/", views.publish_run, name="publish_run"),
    path("distribution/openai/republish/", views.republish, name="republish"),
    path("distribution/openai/drift/", views.drift_check, name="drift_check"),
    path("distribution/plugin/download", views.plugin_download, name="plugin_download"),
    path("distribution/plugin/", plugin_views.plugin_page, name="plugin"),
    path("distribution/plugin/publish", plugin_views.plugin_publish_start, name="plugin_publish"),
    path(
        "distribution/plugin/check",
        plugin_views.plugin_arrival_check_start,
        name="plugin_arrival_check",
    ),
    path("distribution/plugin/remote", plugin_views.plugin_remote_save, name="plugin_remote"),
    path("skill-ir.schema.json", views.skill_ir_schema, name="skill_ir_schema"),
]

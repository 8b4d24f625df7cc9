"""Telemetry admin. The hub's admin lives in telemetry/hub/admin.py."""

from telemetry.hub import admin as hub_admin  # noqa: F401 - registers the hub's ModelAdmins

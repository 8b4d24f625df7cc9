"""Telemetry: fn_telemetry_event, the Compliance API poller, hub records and governance."""

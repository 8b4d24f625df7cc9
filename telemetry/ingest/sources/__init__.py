"""One folder per telemetry source, each its reader and its pure normalizer:
`audit_log/` (the seed's modelled `gpt.*` audit events), `logs_platform/` (the real Compliance
Logs Platform: conversation messages and app calls) and `audit_export/` (the per-user export, the
fallback when the Compliance API is off). What they share — batched idempotent storage, the
one-poller lock, reconciliation, the poll's outcome — stays in `telemetry/ingest/`."""

"""The seed's audit log (`GET /v1/organization/audit_logs`, its `gpt.*` events modelled):
the poller and its normalizer."""

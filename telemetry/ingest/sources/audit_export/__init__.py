"""The per-user audit export, imported by a person when the Compliance API is off."""

"""Skill services shared by every target: import, bundle, the workspace inventory and read (each
target's own publish, drift and export live in `skills/targets/<target>/`). Admin actions,
Command Center views, management commands and Celery tasks call these and present the result."""

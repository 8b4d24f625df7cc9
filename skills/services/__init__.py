"""Skill services: import, bundle, publish and export. Admin actions, Command Center views,
management commands and Celery tasks call these and present the result."""

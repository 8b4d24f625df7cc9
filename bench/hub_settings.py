"""Settings for the hub benchmark's gunicorn: the app's own, plus a bench-only URLconf that adds
the bare INSERT view (never mounted by claresia.urls)."""

from claresia.settings import *  # noqa: F403

ROOT_URLCONF = "bench.hub_urls"

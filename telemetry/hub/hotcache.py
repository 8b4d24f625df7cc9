"""Per-process, short-lived memory of what every hub call reads: token → tenant, and
(tenant, skill id, model) → skill + price. Without it each call costs two extra database round
trips (bench_hub: the hub must reach 1,000 req/s on two cores; README, Hub API performance).

Entries live HOT_CACHE_SECONDS at most. A write in this process to a token, tenant, skill or
price (and `hub_tokens_revoke`) empties this process's memory at once; other gunicorn
processes see the change when their entry expires, so a revoked token, a deleted skill or an
edited price takes effect everywhere within HOT_CACHE_SECONDS."""

import threading
import time
from typing import Any

# The bound on how long a revocation, a skill change or a price edit takes to reach every
# process. Short enough for an operator revoking a leaked token; long enough that a busy
# GPT's calls (many a second) are almost all served from memory.
HOT_CACHE_SECONDS = 5.0
# A hard cap so a flood of distinct tokens or skill ids cannot grow a process without bound.
MAX_ENTRIES = 10_000


class TTLCache:
    def __init__(self, *, seconds: float = HOT_CACHE_SECONDS, max_entries: int = MAX_ENTRIES):
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.seconds, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


tokens = TTLCache()
skills = TTLCache()
# MCP access token checksum → the caller it was verified as; trusted only while the shared
# token stamp is unchanged (token_stamp.py), so a revocation reaches every process at once.
mcp_tokens = TTLCache()


def forget_all(**_signal_kwargs) -> None:
    """Empty this process's memory (hooked to saves and deletes of what it holds)."""
    tokens.clear()
    skills.clear()
    mcp_tokens.clear()

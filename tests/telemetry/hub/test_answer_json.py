"""The plain path writes its answer with orjson: byte for byte what DRF's JSONRenderer writes."""

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from telemetry.hub.api import _answer_json

NAMES = [
    "Incident Postmortem",
    "é · ✓ 日本 😀",
    "line\u2028para\u2029end",
    'quote " backslash \\ slash /',
    "".join(chr(c) for c in range(0x20)) + "\x7f\x80\x9f",
    "",
]


@pytest.mark.parametrize("name", NAMES)
def test_the_answer_is_what_drf_renders(name):
    answer = {
        "id": "rec_01JD0000000000000000000000",
        "url": f"https://api.claresia.com/hub/records/rec_01JD?link=1790000000.{'a' * 64}",
        "footer": f"Claresia · {name} · $0.01 · 2.3s · [View record](https://x/{name})",
        "cost_usd": "0.01",
        "latency_ms": 2_147_483_647,
    }

    assert _answer_json(answer) == JSONRenderer().render(answer)


def test_drf_renders_compact_utf_8():
    # What _answer_json reproduces: a change of these settings must change it too.
    assert (api_settings.COMPACT_JSON, api_settings.UNICODE_JSON) == (True, True)

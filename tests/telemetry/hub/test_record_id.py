"""Record ids: `rec_` + a ULID in Crockford's base 32, most significant digit first."""

import random

import pytest

from telemetry.hub import models as hub_models
from telemetry.hub.models import _CROCKFORD, is_record_id, new_record_id


def _ulid(value: int) -> str:
    # The definition: 26 digits of 5 bits.
    return "".join(_CROCKFORD[(value >> (5 * (25 - i))) & 31] for i in range(26))


@pytest.mark.parametrize("seed", range(5))
def test_a_record_id_is_the_ulid_of_its_time_and_randomness(monkeypatch, seed):
    # given
    rng = random.Random(seed)
    millis, bits = rng.getrandbits(48), rng.getrandbits(80)
    monkeypatch.setattr(hub_models.time, "time", lambda: millis / 1000 + 0.0001)
    monkeypatch.setattr(hub_models.secrets, "randbits", lambda n: bits)

    # when
    record_id = new_record_id()

    # then
    assert record_id == "rec_" + _ulid((millis << 80) | bits)
    assert is_record_id(record_id)


@pytest.mark.parametrize("value", [0, 1, (1 << 128) - 1, 1 << 80, (1 << 80) - 1])
def test_the_extremes(monkeypatch, value):
    monkeypatch.setattr(hub_models.time, "time", lambda: (value >> 80) / 1000 + 0.0001)
    monkeypatch.setattr(hub_models.secrets, "randbits", lambda n: value & ((1 << 80) - 1))

    assert new_record_id() == "rec_" + _ulid(value)

"""The fast check of emit_hub_record bodies against the serializer that defines them: whatever
the fast check accepts, the serializer accepts with the same values; what it does not, the
serializer decides."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telemetry.hub.serializers import EmitHubRecord
from telemetry.hub.validation import accepted_values

VALID = {
    "skill_id": "incident-postmortem",
    "record_key": "conv-1:turn-3",
    "inputs": {"incident_id": "INC-4121", "severity": "SEV2", "tags": ["db", {"n": 1}]},
    "output": "## Summary\nThe database failed over.",
    "model": "gpt-4o",
    "usage": {"input_tokens": 1840, "output_tokens": 612},
    "latency_ms": 2300,
}

# Text near every edge the fields have: blank, padded, too long, NUL, lone surrogate, slugs.
texts = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        [
            "",
            " ",
            "x",
            " x",
            "x\n",
            "a\x00b",
            "\ud800",
            "incident-postmortem",
            "Not A Slug",
            "-lead",
            "trail-",
            "a--b",
            "gpt-4o",
            "x" * 48,
            "x" * 49,
            "k" * 200,
            "k" * 201,
            "m" * 64,
            "m" * 65,
            "completed",
            "refused",
            "maybe",
        ]
    ),
)
counts = st.one_of(
    st.integers(min_value=-2, max_value=3),
    st.sampled_from([10_000_000, 10_000_001, 3_600_000, 3_600_001, 2**70]),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just("12"),
    st.none(),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
fields = {
    "skill_id": texts | counts,
    "record_key": texts | counts,
    "status": texts | counts,
    "output": texts | counts,
    "model": texts | counts,
    "inputs": json_values,
    "usage": st.one_of(
        st.fixed_dictionaries({}, optional={"input_tokens": counts, "output_tokens": counts}),
        json_values,
    ),
    "latency_ms": counts,
}


@st.composite
def bodies(draw):
    """The valid body with some fields dropped, some replaced, some extra keys added."""
    body = dict(VALID)
    for name, values in fields.items():
        choice = draw(st.sampled_from(["keep", "keep", "drop", "replace"]))
        if choice == "drop":
            body.pop(name, None)
        elif choice == "replace":
            body[name] = draw(values)
    if draw(st.booleans()):
        body["unexpected"] = draw(json_values)
    return body


def serializer_values(body):
    serializer = EmitHubRecord(data=body)
    if not serializer.is_valid():
        return None
    return serializer.validated_data


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_the_fast_check_never_accepts_what_the_serializer_refuses(body):
    # when
    fast = accepted_values(body)

    # then: accepted means the serializer accepts it too, with the same values
    if fast is not None:
        assert fast == serializer_values(body)


@pytest.mark.parametrize(
    "body",
    [
        VALID,
        {"skill_id": "incident-postmortem", "output": "x"},
        {"skill_id": "incident-postmortem", "output": "", "status": "refused"},
        {**VALID, "usage": {"input_tokens": 0, "output_tokens": 10_000_000, "extra": 1}},
    ],
)
def test_plainly_valid_bodies_take_the_fast_path_with_the_serializers_values(body):
    # when
    fast = accepted_values(body)

    # then
    assert fast is not None
    assert fast == serializer_values(body)


@pytest.mark.parametrize(
    "body",
    [
        {**VALID, "skill_id": " incident-postmortem"},
        {**VALID, "record_key": "key "},
        {**VALID, "status": "maybe"},
        {**VALID, "output": "   "},
        {**VALID, "latency_ms": True},
        {**VALID, "inputs": {"k": "\ud800"}},
        {**VALID, "usage": {"input_tokens": 1}},
    ],
)
def test_anything_doubtful_is_left_to_the_serializer(body):
    assert accepted_values(body) is None

"""Test connection's banner: "Connected" only when every check that ran passed, "Partly
connected" naming what the failures disable, "Not connected" when no telemetry source answers."""

from connectors.connection_checks import (
    DISABLES,
    BannerLevel,
    Check,
    CheckResult,
    Outcome,
    banner,
)


def line(check: Check, outcome: Outcome) -> CheckResult:
    failed = outcome == Outcome.FAILED
    return CheckResult(
        check,
        check.value,
        outcome,
        "refused" if failed else "answered",
        DISABLES[check] if failed else "",
    )


def test_every_check_that_ran_passed_is_connected():
    # given: the GPT inventory skipped (no workspace id)
    results = [
        line(Check.AUDIT_LOG, Outcome.PASSED),
        line(Check.LOGS_ORGANIZATION, Outcome.PASSED),
        line(Check.GPT_INVENTORY, Outcome.SKIPPED),
    ]

    # when
    said = banner(results)

    # then
    assert said.level == BannerLevel.CONNECTED and said.text == "Connected"


def test_three_of_four_failing_is_partly_connected_and_says_what_they_disable():
    # given
    results = [
        line(Check.AUDIT_LOG, Outcome.FAILED),
        line(Check.LOGS_ORGANIZATION, Outcome.FAILED),
        line(Check.LOGS_WORKSPACE, Outcome.PASSED),
        line(Check.GPT_INVENTORY, Outcome.FAILED),
    ]

    # when
    said = banner(results)

    # then
    assert said.level == BannerLevel.PARTLY
    assert said.text.startswith("Partly connected — 3 of 4 checks failed, which disables ")
    assert DISABLES[Check.GPT_INVENTORY] in said.text


def test_no_telemetry_source_answering_is_not_connected():
    # given: only the GPT inventory answers
    results = [
        line(Check.AUDIT_LOG, Outcome.FAILED),
        line(Check.LOGS_WORKSPACE, Outcome.FAILED),
        line(Check.GPT_INVENTORY, Outcome.PASSED),
    ]

    # when / then
    assert banner(results).text == "Not connected"
    assert banner([]).text == "Not connected"

"""*Test connection* as a checklist: one line per source the connector's credentials should
reach, each with its outcome, the fix in words, and the features a failing line disables.

The lines (seed Part 2, and `shared/contracts/chatgpt-admin-api.md`):
1. the seed's audit log, `GET /organization/audit_logs` on the Platform host (the seed's step 3
   describes it; a real workspace sends it no `gpt.*` events);
2. the Compliance Logs Platform for the organization id: list `APP_LOG` files (calls to the
   Claresia app; the organization path serves organization-scoped types only and answers
   `CONVERSATION_MESSAGE` with a 400, chatgpt-admin-api.md → Credentials and errors);
3. the Logs Platform for the workspace id: list `CONVERSATION_MESSAGE` files (GPT and plugin
   skill use), skipped with where to find the workspace id when none is set;
4. the GPT inventory, when a workspace id is set (what reads the workspace's GPTs back).

The connector is *connected* when a telemetry source answers (line 1, 2 or 3). The results are
stored on the connector (`connection_checks`) so that the poller reads the Logs Platform only for
the principal whose last check passed.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from connectors.openai import chatgpt_admin, modelled
from connectors.openai.client import OpenAIClient
from connectors.openai.errors import OpenAIError, RateLimitedError, UnavailableError


class Check(StrEnum):
    AUDIT_LOG = "audit_log"
    LOGS_ORGANIZATION = "logs_organization"
    LOGS_WORKSPACE = "logs_workspace"
    GPT_INVENTORY = "gpt_inventory"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


TELEMETRY_CHECKS = frozenset({Check.AUDIT_LOG, Check.LOGS_ORGANIZATION, Check.LOGS_WORKSPACE})
LOGS_CHECKS = (Check.LOGS_WORKSPACE, Check.LOGS_ORGANIZATION)  # the workspace first when both

LABELS = {
    Check.AUDIT_LOG: "Platform audit log of the organization",
    Check.LOGS_ORGANIZATION: "Compliance Logs Platform, organization {id} (app calls, APP_LOG)",
    Check.LOGS_WORKSPACE: "Compliance Logs Platform, workspace {id} (conversations)",
    Check.GPT_INVENTORY: "GPT inventory, workspace {id}",
}
DISABLES = {
    Check.AUDIT_LOG: "GPT telemetry from the Platform audit log (only the OpenAI sandbox sends it)",
    Check.LOGS_ORGANIZATION: (
        "app-call telemetry (APP_LOG) through the organization id (the workspace id, when it "
        "passes, is read instead)"
    ),
    Check.LOGS_WORKSPACE: (
        "conversation telemetry (CONVERSATION_MESSAGE: GPT and plugin skill use), which only "
        "the workspace path serves"
    ),
    Check.GPT_INVENTORY: (
        "reading the workspace's GPTs back: Distribution's found / owner / visibility / "
        "action-domain lines and drift on the real API"
    ),
}
AUDIT_ONLY_NOTE = (
    "Only the Platform audit log answers: a real ChatGPT workspace records no GPT use there, "
    "so no ChatGPT telemetry arrives until the Compliance Logs Platform answers (an admin key "
    "from ChatGPT Admin Console → Credentials → Admin keys, with read access to compliance logs)."
)
NO_WORKSPACE = (
    "No ChatGPT workspace id: set it on the connector to read the workspace's GPTs back "
    "(found, owner, visibility, action domain, drift)."
)
# Where the workspace id is: the ChatGPT Admin Console's workspace settings (README → Connect).
CONVERSATIONS_NEED_WORKSPACE = (
    "Conversation telemetry (GPT and plugin skill use) needs the ChatGPT workspace id: with the "
    "organization id alone, only calls to the Claresia app are read. Find the workspace id in "
    "the ChatGPT Admin Console (chatgpt.com/admin → Settings, beside the workspace's name) and "
    "set it on the connector."
)

KEPT_NOTE = (
    "still read as before: this test could not reach OpenAI, which says nothing about the key"
)
# How far back the Logs Platform check lists: the files are kept 30 days (chatgpt-admin-api.md).
LOGS_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class CheckResult:
    check: str
    label: str
    outcome: str
    detail: str
    disables: str = ""
    principal: str = ""
    # Failed only because OpenAI could not be reached or was rate limiting (5xx, timeout, DNS,
    # refused, 429): that says nothing about the credentials.
    transient: bool = False
    # A transient failure of a line that passed at the test before: its source is still read.
    kept: bool = False

    @property
    def passed(self) -> bool:
        return self.outcome == Outcome.PASSED

    @property
    def readable(self) -> bool:
        """Whether telemetry is read through this line: it passed, or only failed to reach
        OpenAI after passing before."""
        return self.passed or self.kept

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})

    def __str__(self) -> str:
        text = f"[{self.outcome}] {self.label}: {self.detail}"
        if self.kept:
            text += f" — {KEPT_NOTE}"
        elif self.outcome == Outcome.FAILED and self.disables:
            text += f" — disables: {self.disables}"
        return text


def _run(
    check: Check, label: str, call: Callable[[], object], *, principal: str = ""
) -> CheckResult:
    try:
        call()
    except OpenAIError as exc:
        return CheckResult(
            check,
            label,
            Outcome.FAILED,
            exc.user_message,
            DISABLES[check],
            principal,
            transient=isinstance(exc, UnavailableError | RateLimitedError),
        )
    return CheckResult(check, label, Outcome.PASSED, "answered", "", principal)


def run_connection_checks(
    *,
    organization_id: str,
    workspace_id: str | None,
    platform_client: OpenAIClient,
    admin_client: OpenAIClient,
    now: datetime,
) -> list[CheckResult]:
    """Every line of the checklist, in order. Never raises for an OpenAI problem."""
    after = chatgpt_admin.iso(now - LOGS_LOOKBACK)
    results = [
        _run(
            Check.AUDIT_LOG,
            LABELS[Check.AUDIT_LOG],
            lambda: modelled.audit_logs_page(platform_client, limit=1),
        )
    ]
    # Each path is probed with a type it serves: the organization path refuses conversations.
    principals = [
        (
            Check.LOGS_ORGANIZATION,
            chatgpt_admin.Principal.organization(organization_id),
            chatgpt_admin.APP_LOG,
        )
    ]
    if workspace_id:
        principals.append(
            (
                Check.LOGS_WORKSPACE,
                chatgpt_admin.Principal.workspace(workspace_id),
                chatgpt_admin.CONVERSATION_MESSAGE,
            )
        )
    for check, principal, event_type in principals:
        results.append(
            _run(
                check,
                LABELS[check].format(id=principal.id),
                lambda principal=principal, event_type=event_type: chatgpt_admin.logs_page(
                    admin_client, principal, event_type=event_type, after=after, limit=1
                ),
                principal=principal.id,
            )
        )
    if not workspace_id:
        results.append(
            CheckResult(
                Check.LOGS_WORKSPACE,
                LABELS[Check.LOGS_WORKSPACE].format(id="(none)"),
                Outcome.SKIPPED,
                CONVERSATIONS_NEED_WORKSPACE,
                DISABLES[Check.LOGS_WORKSPACE],
            )
        )
    if workspace_id:
        results.append(
            _run(
                Check.GPT_INVENTORY,
                LABELS[Check.GPT_INVENTORY].format(id=workspace_id),
                lambda: chatgpt_admin.gpts_page(admin_client, str(workspace_id), limit=1),
                principal=str(workspace_id),
            )
        )
    else:
        results.append(
            CheckResult(
                Check.GPT_INVENTORY,
                LABELS[Check.GPT_INVENTORY].format(id="(none)"),
                Outcome.SKIPPED,
                NO_WORKSPACE,
                DISABLES[Check.GPT_INVENTORY],
            )
        )
    return results


def keep_reading(results: list[CheckResult], previous: list[CheckResult]) -> list[CheckResult]:
    """The new checklist, where a line that failed only to reach OpenAI after passing at the
    previous test (same check, same principal) is marked kept: a test run against an unreachable
    host (a command run without the demo's environment, an outage) must not stop telemetry."""
    readable_before = {(r.check, r.principal) for r in previous if r.readable}
    return [
        replace(r, kept=True) if r.transient and (r.check, r.principal) in readable_before else r
        for r in results
    ]


def is_connected(results: list[CheckResult]) -> bool:
    """Connected when a telemetry source answers (the seed's audit log or the Logs Platform), or
    is still read because this test could not reach OpenAI (`keep_reading`)."""
    return any(r.readable and r.check in TELEMETRY_CHECKS for r in results)


def logs_platform_passed(results: list[CheckResult]) -> bool:
    return any(r.passed and r.check in LOGS_CHECKS for r in results)


class BannerLevel(StrEnum):
    CONNECTED = "connected"
    PARTLY = "partly"
    NOT_CONNECTED = "failed"


@dataclass(frozen=True)
class Banner:
    """What Test connection's banner says of a checklist: "Connected" only when every check
    that ran passed (a skipped line is not a failure)."""

    level: BannerLevel
    text: str


def banner(results: list[CheckResult]) -> Banner:
    ran = [r for r in results if r.outcome != Outcome.SKIPPED]
    failed = [r for r in ran if r.outcome == Outcome.FAILED]
    if not results or not is_connected(results):
        return Banner(BannerLevel.NOT_CONNECTED, "Not connected")
    if not failed:
        return Banner(BannerLevel.CONNECTED, "Connected")
    disabled = "; ".join(dict.fromkeys(r.disables for r in failed if r.disables))
    return Banner(
        BannerLevel.PARTLY,
        f"Partly connected — {len(failed)} of {len(ran)} checks failed"
        + (f", which disables {disabled}" if disabled else ""),
    )


def summary(results: list[CheckResult]) -> str:
    """What the page says under the checklist: the failures' reasons, and the note when only
    the seed's audit log answers."""
    failed = [
        f"{r.label}: {r.detail}" + (f" ({KEPT_NOTE})" if r.kept else "")
        for r in results
        if r.outcome == Outcome.FAILED
    ]
    audit = any(r.passed and r.check == Check.AUDIT_LOG for r in results)
    if audit and not logs_platform_passed(results):
        failed.append(AUDIT_ONLY_NOTE)
    return "\n".join(failed)


def beyond_checklist(results: list[CheckResult]) -> str:
    """What `summary` says that the checklist's lines do not (the note when only the seed's
    audit log answers): a page showing the checklist shows this beside it, so that one failure
    reads once, on its own line, not again as a message."""
    audit = any(r.passed and r.check == Check.AUDIT_LOG for r in results)
    return AUDIT_ONLY_NOTE if audit and not logs_platform_passed(results) else ""

"""How one poll of one tenant ended, whatever its sources: the words every source's failure
shares and the outcome the services, the command and the admin report."""

from dataclasses import dataclass, field
from enum import StrEnum

# What a poll stopped by a bug of ours says; the traceback goes to the log, not to the page.
INTERNAL_ERROR_MESSAGE = (
    "an internal error stopped this poll (logged for Claresia's operators); the next poll "
    "tries again"
)


class PollStatus(StrEnum):
    """How one poll of one tenant ended."""

    OK = "ok"
    PARTIAL = "partial"  # stopped, or the page budget reached: the next poll resumes the window
    LOCKED = "locked"  # another poller holds the tenant
    FAILED = "failed"


@dataclass
class PollOutcome:
    tenant: str
    status: PollStatus
    stored: int = 0
    skipped: int = 0
    pages: int = 0
    error: str = ""
    # False when the seed's audit log was not read (its last Test connection check failed
    # while the Logs Platform's passed: a real workspace's key).
    audit_read: bool = True
    # The other sources' outcomes of the same poll (the Logs Platform), one line each.
    sources: list = field(default_factory=list)

    def __str__(self) -> str:
        lines = [str(source) for source in self.sources]
        if not self.audit_read:
            head = f"{self.tenant}: seed audit log not read (its last Test connection check failed)"
            return "\n".join([head, *lines])
        if self.status == PollStatus.LOCKED and not self.sources:
            return f"{self.tenant}: skipped, another poller is running"
        pages = f"{self.pages} page" + ("" if self.pages == 1 else "s")
        text = f"{self.tenant}: {self.stored} stored, {self.skipped} skipped, {pages}"
        if self.status == PollStatus.PARTIAL:
            text += " (window not finished; the next poll resumes it)"
        if self.error:
            text += f" — {self.error}"
        return "\n".join([text, *lines])

    @property
    def failure(self) -> str:
        """Every source's error of this poll, in one line."""
        errors = [self.error] if self.error else []
        errors += [f"{s.label}: {s.error}" for s in self.sources if getattr(s, "error", "")]
        return "; ".join(errors)

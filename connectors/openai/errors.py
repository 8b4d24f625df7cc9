"""Typed OpenAI errors and the message each one gives the person who hit it.

Two tables: the seed's Platform host (`shared/contracts/openai-enterprise-api.md` → Errors,
mapped by status and `code`; the wording follows the seed's troubleshooting section), and the
real Compliance API host (`shared/contracts/chatgpt-admin-api.md` → Credentials and errors,
mapped by status only: its missing-scope 401 carries `"code": null`).
"""

from claresia.logging import redact

COMPLIANCE_DISABLED_MESSAGE = (
    "Telemetry missing: Compliance API not enabled — upgrade to Enterprise, "
    "or import the per-user audit export"
)
# ChatGPT has no bulk import and no API that creates a GPT (chatgpt-admin-api.md → GPT
# inventory): the way left is a builder's, by hand, from the steps the Export page gives.
PUBLISH_DISABLED_MESSAGE = (
    "OpenAI does not let Claresia create Custom GPTs in this workspace: a workspace builder "
    "makes each one by hand in ChatGPT, following the steps in its ZIP from Distribution → Export"
)


class OpenAIError(Exception):
    """An OpenAI call that did not succeed. `user_message` is safe to show and to store."""

    status: int | None = None

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
    ) -> None:
        # OpenAI's own message can quote part of a key ("Incorrect API key provided: sk-…").
        self.message = redact(message or "")
        self.status = status if status is not None else self.status
        self.code = code
        self.param = param
        self.request_id = request_id
        super().__init__(self.user_message)

    def _describe(self) -> str:
        return f"OpenAI refused the request: {self.message or 'no reason given'}"

    @property
    def user_message(self) -> str:
        text = self._describe()
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class AuthenticationError(OpenAIError):
    status = 401

    def _describe(self) -> str:
        return (
            "The Compliance API key is not valid (wrong, revoked, or not for this organization): "
            "paste a new one"
        )


class MissingScopeError(AuthenticationError):
    def _describe(self) -> str:
        return (
            "Admin key is not Compliance scope: re-mint with Compliance scope "
            "(platform.openai.com → Settings → API → Admin keys)"
        )


class PermissionDeniedError(OpenAIError):
    status = 403

    def _describe(self) -> str:
        return f"OpenAI denied access: {self.message or 'permission denied'}"


class ComplianceAPIDisabledError(PermissionDeniedError):
    def _describe(self) -> str:
        return COMPLIANCE_DISABLED_MESSAGE


class PublishDisabledError(PermissionDeniedError):
    def _describe(self) -> str:
        return PUBLISH_DISABLED_MESSAGE


class NotFoundError(OpenAIError):
    status = 404

    def _describe(self) -> str:
        return f"Not found at OpenAI: {self.message or 'the object is gone'}"


class ConflictError(OpenAIError):
    status = 409


class BadRequestError(OpenAIError):
    status = 400

    def _describe(self) -> str:
        where = f" ({self.param})" if self.param else ""
        return f"OpenAI rejected the request{where}: {self.message or 'invalid request'}"


class RateLimitedError(OpenAIError):
    status = 429

    def __init__(
        self,
        *args,
        attempts: int = 1,
        retry_after: float | None = None,
        host: str = "platform",
        **kwargs,
    ):
        self.attempts = attempts
        self.retry_after = retry_after
        self.host = host
        super().__init__(*args, **kwargs)

    def _describe(self) -> str:
        if self.host == "chatgpt_admin":
            # chatgpt-admin-api.md → Credentials and errors: 100 requests per minute per
            # workspace, per method and route.
            return (
                f"The ChatGPT Compliance API is rate limiting this workspace (429 after "
                f"{self.attempts} attempts; its limit is 100 requests per minute per route): "
                "Claresia slows down and tries again at the next poll"
            )
        return (
            f"OpenAI is rate limiting this organization (429 after {self.attempts} attempts): "
            "try again in a minute"
        )


class UnavailableError(OpenAIError):
    """5xx, a timeout, DNS, a refused connection or a body that is not JSON."""

    def __init__(self, reason: str, **kwargs) -> None:
        self.reason = reason
        super().__init__(reason, **kwargs)

    def _describe(self) -> str:
        return f"OpenAI unavailable: {self.reason}"


class MalformedListError(OpenAIError):
    """A list page Claresia cannot follow: `data` not a list, or a page served again (a cursor
    that does not advance would otherwise be followed for ever)."""

    def _describe(self) -> str:
        return f"OpenAI sent a list page Claresia cannot follow: {self.message}"


class LogFileRefusedError(OpenAIError):
    """A Logs Platform download Claresia stopped (chatgpt-admin-api.md → Compliance Logs
    Platform: the 307's signed URL is followed at once, streamed, never read whole): its URL is
    not HTTPS to a public address, or it outlasted the time bound."""

    def _describe(self) -> str:
        return f"Log file download refused: {self.message}"


class LogFileTooLargeError(LogFileRefusedError):
    """A log file that decodes past the size bound (a gzip that inflates hugely): the file is
    refused and reported, the files after it are read."""


_BY_CODE: dict[str, type[OpenAIError]] = {
    "missing_scope": MissingScopeError,
    "invalid_api_key": AuthenticationError,
    "compliance_api_disabled": ComplianceAPIDisabledError,
    "gpt_publish_disabled": PublishDisabledError,
}
_BY_STATUS: dict[int, type[OpenAIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
}


def error_for(status: int, error: dict, request_id: str | None) -> OpenAIError:
    """Map a final (not retried) error answer to its typed error."""
    code = error.get("code")
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status, OpenAIError)
    if cls is MissingScopeError and status != 401:
        cls = _BY_STATUS.get(status, OpenAIError)
    return cls(
        str(error.get("message") or ""),
        status=status,
        code=code,
        param=error.get("param"),
        request_id=request_id,
    )


# ---- the real Compliance API host (chatgpt-admin-api.md → Credentials and errors) -----------

ADMIN_KEY_WHERE = (
    "ChatGPT Admin Console → Credentials → Admin keys (Restricted, with read access to "
    "compliance logs and GPTs)"
)


class AdminKeyRefusedError(AuthenticationError):
    """401 on the real host: the key is missing, invalid, revoked, or lacks a scope."""

    def _describe(self) -> str:
        said = f" OpenAI said: {self.message}" if self.message else ""
        return (
            "The ChatGPT Compliance API refused the key (401: missing, invalid or revoked, or "
            f"without the scopes this call needs): mint a new admin key in {ADMIN_KEY_WHERE} "
            f"and paste it.{said}"
        )


class AdminPermissionError(PermissionDeniedError):
    """403 on the real host: the key lacks the permission, or not for this workspace."""

    def _describe(self) -> str:
        said = f" OpenAI said: {self.message}" if self.message else ""
        return (
            "The ChatGPT Compliance API denied this call (403: the key lacks the permission, "
            "or is not authorized for this workspace): give the key read access to compliance "
            f"logs and GPTs in {ADMIN_KEY_WHERE}, and check the workspace id.{said}"
        )


class AdminNotFoundError(NotFoundError):
    """404 on the real host: not found, or a plan without the Admin API."""

    def _describe(self) -> str:
        return (
            "The ChatGPT Compliance API answered 404: the workspace or organization id is "
            "wrong, or the workspace's plan has no Admin API (Enterprise and Edu only): check "
            "the id, or import the per-user audit export instead"
        )


_ADMIN_BY_STATUS: dict[int, type[OpenAIError]] = {
    400: BadRequestError,
    401: AdminKeyRefusedError,
    403: AdminPermissionError,
    404: AdminNotFoundError,
    409: ConflictError,
    422: BadRequestError,
}


def admin_error_for(status: int, error: dict, request_id: str | None) -> OpenAIError:
    """Map a final error answer of the real host to its typed error, by status alone (its
    body shape is assumed OpenAI's; its `code` is never relied on)."""
    cls = _ADMIN_BY_STATUS.get(status, OpenAIError)
    return cls(
        str(error.get("message") or ""),
        status=status,
        code=error.get("code"),
        param=error.get("param"),
        request_id=request_id,
    )

"""Defence in depth for the rule that secrets never reach logs.

Nothing in Claresia logs a key on purpose; this filter masks anything shaped like an OpenAI
key or a bearer token that a third-party library might still put in a message.
"""

import json
import logging
import re

_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{4,}|(?i:bearer)\s+[A-Za-z0-9_\-.=]{8,})")


def redact(text: str) -> str:
    return _SECRET.sub("[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (production logs), already passed through RedactSecretsFilter."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)

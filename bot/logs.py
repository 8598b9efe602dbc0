"""Logging: one line per event (plain text or JSON), and no secret ever reaches a handler.

The bot token sits inside every Bot API URL, and httpx logs request URLs at INFO. So httpx is
held at WARNING, and ``RedactFilter`` sits on every handler: it renders each record (message,
arguments, traceback) and replaces the token, and anything shaped like a token, before output.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

# A Telegram bot token: the bot id, a colon, 35 or so url-safe characters.
TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")
# A token in a Bot API path, whatever its shape: /bot<token>/ and /file/bot<token>/.
TOKEN_IN_PATH = re.compile(r"(/bot)[^/\s]+(/)")
# A password in a URL: scheme://user:PASSWORD@host (a database URL in an error message).
URL_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^\s:/@'\"]*:)[^\s'\"]+(@)")
REDACTED = "[REDACTED]"
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler", "telegram.ext.ExtBot", "alembic")


class RedactFilter(logging.Filter):
    """Renders a record once and strips secrets from the result."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = TOKEN_SHAPE.sub(REDACTED, text)
        text = URL_PASSWORD.sub(hide_password, text)
        return TOKEN_IN_PATH.sub(rf"\1{REDACTED}\2", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def hide_password(match: re.Match[str]) -> str:
    return f"{match[1]}***{match[2]}"


def without_secrets(text: str) -> str:
    """``text`` without the secrets logging was set up with, URL passwords and anything
    shaped like a bot token: for messages printed without logging (``execbot: ...``)."""
    return _active.redact(text)


class MigrationSteps(logging.Filter):
    """Alembic says which engine it uses each time it looks at the schema; let through only
    the steps it applies ("Running upgrade 0003 -> 0004, ...") and problems."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return record.levelno >= logging.WARNING or message.startswith("Running ")


class WithoutTraceback(logging.Filter):
    """One line: for a library that logs a traceback of an error it then raises (and the
    caller reports)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


_active = RedactFilter()
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> RedactFilter:
    """Configure the root logger for the process; returns the filter so secrets can be added."""
    global _active
    redact = _active = RedactFilter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(redact)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    migration = logging.getLogger("alembic.runtime.migration")
    migration.setLevel(level.upper())  # its steps, when one runs (see MigrationSteps)
    for old_filter in list(migration.filters):
        migration.removeFilter(old_filter)
    migration.addFilter(MigrationSteps())
    # PTB logs "Can not load invalid JSON data" with a traceback, then raises: api_base_url
    # pointing at something that is not a Bot API. The raised error is what execbot reports.
    request_log = logging.getLogger("telegram.request.BaseRequest")
    for old_filter in list(request_log.filters):
        request_log.removeFilter(old_filter)
    request_log.addFilter(WithoutTraceback())
    return redact

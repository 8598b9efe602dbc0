"""The token never reaches a log line: not in messages, arguments, tracebacks, nor in the
request URLs httpx logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import logs

TOKEN = "7012345678:AAH9x_secretSECRETsecret-0123456789abc"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logs.setup("DEBUG", "text", secrets=[TOKEN])
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name in logs.NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_token_in_message_args_and_traceback_is_redacted(captured: io.StringIO) -> None:
    log = logging.getLogger("execbot.test")
    log.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    log.warning(f"token is {TOKEN}")
    try:
        raise RuntimeError(f"failed on /bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("boom")
    output = captured.getvalue()
    assert TOKEN not in output
    assert "secretSECRET" not in output
    assert output.count(logs.REDACTED) == 4
    assert "RuntimeError: failed on /bot[REDACTED]/sendMessage" in output


def test_unknown_token_shapes_and_paths_are_redacted_too(captured: io.StringIO) -> None:
    other = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdef"
    logging.getLogger("x").error(
        "url http://127.0.0.1:8081/botnot-a-real-shape/getUpdates %s", other
    )
    output = captured.getvalue()
    assert "not-a-real-shape" not in output and other not in output


def test_httpx_request_lines_are_held_back(captured: io.StringIO) -> None:
    logging.getLogger("httpx").info(
        'HTTP Request: POST https://api.telegram.org/bot%s/getMe "200 OK"', TOKEN
    )
    assert captured.getvalue() == ""
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING


def test_json_format_is_redacted() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logs.setup("INFO", "json", secrets=[TOKEN])
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("execbot").info("token %s", TOKEN)
        entry = json.loads(stream.getvalue())
        assert entry["msg"] == f"token {logs.REDACTED}"
        assert entry["level"] == "INFO"
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_item18_a_password_in_a_url_is_redacted(captured: io.StringIO) -> None:
    url = "postgresql+psycopg://execbot:Pa55-word@db.example:5432/plant"
    logging.getLogger("x").error("cannot connect to %s", url)
    try:
        raise RuntimeError(f"could not parse '{url}'")
    except RuntimeError:
        logging.getLogger("x").exception("boom")
    output = captured.getvalue()
    assert "Pa55-word" not in output
    assert output.count("postgresql+psycopg://execbot:***@db.example:5432/plant") == 2
    assert logs.without_secrets(f"got {url!r}") == (
        "got 'postgresql+psycopg://execbot:***@db.example:5432/plant'"
    )

"""Where the webhook and operations server listens (``bot.ops.listen_address``), and the rules
for the webhook secret (``bot.delivery.webhook.secret_problem``): no network, no database."""

from __future__ import annotations

from typing import Any

import pytest

from bot import config
from bot.delivery.webhook import SecretError, secret_from_env, secret_problem
from bot.ops import PORT_ENV, ServerError, listen_address

HOOK = config.WebhookSettings()


def settings(**raw: Any) -> config.Settings:
    return config.parse(raw, source="test")


def webhook(**hook: Any) -> config.Settings:
    return settings(telegram={"mode": "webhook", "webhook": hook})


@pytest.mark.parametrize(
    ("chosen", "environ", "expected"),
    [
        (settings(), {}, None),  # polling, no [server] port: no operations server
        (settings(server={"port": 9100}), {}, ("127.0.0.1", 9100)),
        (settings(server={"listen": "0.0.0.0", "port": 9100}), {}, ("0.0.0.0", 9100)),
        (settings(), {PORT_ENV: "9200"}, ("127.0.0.1", 9200)),  # a systemd instance's port
        (settings(server={"port": 9100}), {PORT_ENV: "0"}, None),
        (webhook(), {}, ("127.0.0.1", 8443)),
        (webhook(listen="0.0.0.0", port=8001), {PORT_ENV: " 8002 "}, ("0.0.0.0", 8002)),
    ],
)
def test_listen_address(
    chosen: config.Settings, environ: dict[str, str], expected: tuple[str, int] | None
) -> None:
    assert listen_address(chosen, environ) == expected


@pytest.mark.parametrize(
    ("chosen", "value", "message"),
    [
        (settings(), "eighty", "EXECBOT_SERVER_PORT must be a port number (0-65535), got 'eighty'"),
        (settings(), "70000", "must be a port number"),
        (settings(), "-1", "must be a port number"),
        (webhook(), "0", "webhook mode needs a port to listen on"),
    ],
)
def test_a_bad_port_is_refused(chosen: config.Settings, value: str, message: str) -> None:
    with pytest.raises(ServerError) as raised:
        listen_address(chosen, {PORT_ENV: value})
    assert message in str(raised.value)


def test_a_good_secret_is_taken() -> None:
    secret = "A-z_09" * 10
    assert secret_problem(HOOK, {"EXECBOT_WEBHOOK_SECRET": secret}) is None
    assert secret_from_env(HOOK, {"EXECBOT_WEBHOOK_SECRET": secret}) == secret
    assert secret_from_env(HOOK, {"EXECBOT_WEBHOOK_SECRET": "x" * 256}) == "x" * 256


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (
            None,
            "webhook mode needs a secret: the environment variable EXECBOT_WEBHOOK_SECRET is not "
            "set",
        ),
        ("", "the environment variable EXECBOT_WEBHOOK_SECRET is not set"),
        (
            "has spaces in it",
            "the webhook secret in EXECBOT_WEBHOOK_SECRET is not valid for Telegram",
        ),
        ("ünïcode-secret", "1-256 characters of A-Z a-z 0-9 _ -"),
        ("x" * 257, "(it has 257)"),
    ],
)
def test_a_missing_or_malformed_secret_is_refused_without_showing_it(
    value: str | None, says: str
) -> None:
    environ = {} if value is None else {"EXECBOT_WEBHOOK_SECRET": value}
    with pytest.raises(SecretError) as raised:
        secret_from_env(HOOK, environ)
    message = str(raised.value)
    assert says in message
    assert "openssl rand -hex 32" in message
    if value:
        assert value not in message


def test_the_secret_variable_is_the_configured_one() -> None:
    hook = config.WebhookSettings(secret_env="PLANT_HOOK_SECRET")
    assert "PLANT_HOOK_SECRET is not set" in (secret_problem(hook, {}) or "")
    assert secret_from_env(hook, {"PLANT_HOOK_SECRET": "abc"}) == "abc"

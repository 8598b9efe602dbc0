"""What every command shares: the global options, loading the settings, failing plainly,
a migrated engine."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import typer

from bot import config, logs
from bot.config import ConfigError, Settings


@dataclass
class Options:
    config_path: Path | None
    log_level: str | None


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"execbot: {logs.without_secrets(message)}", err=True)
    raise typer.Exit(code)


def settings_of(ctx: typer.Context) -> Settings:
    """Load and validate the settings and set up logging, or stop with the reason."""
    options: Options = ctx.obj
    path = options.config_path or config.default_path()
    try:
        settings = config.load(path)
    except ConfigError as exc:
        fail(f"configuration error\n{exc}")
    level = (options.log_level or settings.logging.level).upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        fail(f"--log-level: expected DEBUG, INFO, WARNING or ERROR, got {options.log_level!r}")
    webhook_secret = os.environ.get(settings.telegram.webhook.secret_env, "")
    if len(webhook_secret) < 8:  # too short to tell from ordinary text (doctor warns)
        webhook_secret = ""
    logs.setup(level, settings.logging.format, secrets=[settings.token() or "", webhook_secret])
    return settings


def ready_engine(settings: Settings):  # type: ignore[no-untyped-def]
    """The engine, after refusing a too-new schema and applying pending migrations."""
    from bot import app as bot_app
    from bot.runtime import Runtime
    from bot.store.engine import make_engine

    runtime = Runtime(settings, make_engine(settings.database.url))
    try:
        bot_app.prepare_database(runtime)
    except bot_app.StartupError as exc:
        fail(str(exc))
    return runtime.engine


def bot_username(settings: Settings, engine) -> str:  # type: ignore[no-untyped-def]
    from bot.store.engine import session_scope
    from bot.store.settings import BOT_USERNAME_SETTING, get_setting

    if settings.telegram.bot_username:
        return settings.telegram.bot_username
    with session_scope(engine) as session:
        known = get_setting(session, BOT_USERNAME_SETTING)
    if known:
        return known
    fail(
        "the bot's username is not known yet: start `execbot run` once (it asks Telegram), "
        "or set [telegram] bot_username in the config"
    )

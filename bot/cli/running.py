"""Commands that run something: the bot, the sandbox, the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot import logs
from bot.cli.common import fail, settings_of
from bot.config import Settings


def need_sandbox(command: str) -> None:
    """Fail plainly without the sandbox (its own distribution; ``execbot run`` never needs it)."""
    try:
        import sandbox.server  # noqa: F401
    except ModuleNotFoundError as exc:
        fail(
            f"`execbot {command}` needs the sandbox, which is not installed ({exc}); "
            "from the execbot repository: pip install ./sandbox (make install does it)"
        )


def run(ctx: typer.Context) -> None:
    """Run the bot (polling or webhook, as configured) until stopped."""
    from bot import app as bot_app
    from bot.runtime import Runtime, clock_from_env
    from bot.store.engine import make_engine

    settings = settings_of(ctx)
    token = settings.token()
    if token is None:
        fail(missing_token_message(settings))
    try:
        clock = clock_from_env()
    except ValueError as exc:
        fail(str(exc))
    # A connection for every inbox worker, the sender's flushes and the passes.
    connections = settings.inbox.workers + 8
    runtime = Runtime(settings, make_engine(settings.database.url, connections=connections), clock)
    try:
        bot_app.run(runtime, token)
    except bot_app.StartupError as exc:
        fail(str(exc))


def missing_token_message(settings: Settings) -> str:
    env = settings.telegram.token_env
    return (
        f"no bot token: the environment variable {env} is not set.\n"
        "  execbot needs the token of your Telegram bot. Create a bot with @BotFather in "
        "Telegram, then:\n"
        f"    export {env}='123456789:AA...your-token...'\n"
        "    execbot run\n"
        "  To try execbot without Telegram, run the local Bot API sandbox (`execbot sandbox`)\n"
        "  and point [telegram] api_base_url and file_base_url at it (see README)."
    )


def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8081,
    token: Annotated[
        list[str] | None,
        typer.Option(help="A bot token to accept; repeat for more (default: the test token)."),
    ] = None,
    no_limits: Annotated[
        bool, typer.Option("--no-limits", help="Switch Telegram's rate limits off.")
    ] = False,
    latency: Annotated[
        str,
        typer.Option(help="Seconds each Bot API call waits, MIN-MAX (e.g. 0.1-0.3; 0: none)."),
    ] = "0",
) -> None:
    """Run the local Bot API sandbox (a strict stand-in for Telegram) until stopped."""
    need_sandbox("sandbox")
    from sandbox.server import DEFAULT_TOKEN, parse_latency, serve

    try:
        span = parse_latency(latency)
    except ValueError as exc:
        fail(f"--latency: expected MIN-MAX in seconds such as 0.1-0.3 ({exc})")
    logs.setup("INFO")
    serve("127.0.0.1", port, tuple(token or [DEFAULT_TOKEN]), not no_limits, span)


def demo(
    port: Annotated[
        int | None, typer.Option(help="Sandbox and chat page port [default: 8080, else free].")
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Folder for the demo's files [default: temporary, removed]."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    run_for: Annotated[
        float | None,
        typer.Option(
            "--for", min=0, metavar="SECONDS", help="Stop by itself this long after the bot is up."
        ),
    ] = None,
) -> None:
    """The whole loop in a browser: local Telegram, a demo plant, the bot; Ctrl+C stops it."""
    need_sandbox("demo")
    from bot.demo import run as run_demo

    logs.setup("WARNING")
    raise typer.Exit(run_demo(port, directory, host, run_for))

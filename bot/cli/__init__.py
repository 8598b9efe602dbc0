"""The ``execbot`` command line (Typer: typed options, help for free, the SQLModel family's
choice). Each command loads the settings, sets up logging and calls one service; the commands
live in ``running`` (run, sandbox, demo), ``data`` (db, org import, outbox) and ``people``
(invite, away), ``report`` (the supervision figures as CSV or XLSX)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot import logs
from bot.cli import data, doctor, people, report, running
from bot.cli.common import Options

app = typer.Typer(
    name="execbot",
    help="execbot: daily duties pushed to each person, replies stored, silence escalated.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
org_app = typer.Typer(
    help="The org: units, people, duties, shifts, absences.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
# In the order ``execbot --help`` lists them.
app.command()(running.run)
app.command()(doctor.doctor)
db_app.command("upgrade")(data.db_upgrade)
db_app.command("status")(data.db_status)
org_app.command("import")(data.org_import)
app.command()(people.invite)
app.command()(people.away)
app.command()(data.outbox)
app.command()(report.report)
app.command()(running.sandbox)
app.command()(running.demo)


@app.callback()
def main_options(
    ctx: typer.Context,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (default: $EXECBOT_CONFIG, else ./config.toml, else built-ins).",
        ),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR (overrides config).")
    ] = None,
) -> None:
    ctx.obj = Options(config_file, log_level)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # no raw traceback (it may hold a secret): one line, details logged
        logging.getLogger("execbot").debug("unexpected error", exc_info=True)
        reason = (str(exc).strip().splitlines() or [""])[0]
        message = f"unexpected error: {type(exc).__name__}: {reason} (--log-level DEBUG: where)"
        print(f"execbot: {logs.without_secrets(message)}", file=sys.stderr)
        sys.exit(1)

"""``execbot`` in the test's own process: ``bot.cli.main`` with its arguments, in a working
directory, with a clean environment (no EXECBOT_* but those given), stdout and stderr captured
(Typer's ``CliRunner`` isolation). What the command changes in the process is put back after:
the working directory, ``sys.argv`` and logging (``bot.logs.setup`` replaces the root handlers).
A process costs about a second of imports; this costs milliseconds. ``subprocess_execbot``
runs the installed script as a real process, for the few tests that are about that."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot import cli, logs

EXECBOT = str(Path(sys.executable).with_name("execbot"))


@dataclass
class Ran:
    """What a finished command left: as ``subprocess.CompletedProcess`` has it."""

    returncode: int
    stdout: str
    stderr: str


def execbot(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Ran:
    changes: dict[str, str | None] = {k: None for k in os.environ if k.startswith("EXECBOT_")}
    changes.update(env or {})
    argv, here = sys.argv, os.getcwd()
    with kept_logging(), CliRunner().isolation(env=changes) as (out, err, _):
        try:
            os.chdir(cwd)
            sys.argv = ["execbot", *args]
            try:
                cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            os.chdir(here)
            sys.argv = argv
        return Ran(code, out.getvalue().decode(), err.getvalue().decode())


def subprocess_execbot(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Ran:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EXECBOT_")}
    full_env.update(env or {})
    done = subprocess.run(
        [EXECBOT, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60
    )
    return Ran(done.returncode, done.stdout, done.stderr)


@contextmanager
def kept_logging() -> Iterator[None]:
    """Every logger's level, handlers and filters (and the redaction filter) as they were."""
    loggers: list[Any] = [logging.getLogger()]
    loggers += [
        x for x in logging.root.manager.loggerDict.values() if isinstance(x, logging.Logger)
    ]
    saved = [(x, x.level, list(x.handlers), list(x.filters)) for x in loggers]
    active = logs._active
    try:
        yield
    finally:
        for logger, level, handlers, filters in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.filters[:] = filters
        logs._active = active

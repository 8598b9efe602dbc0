"""``execbot demo``: the whole loop on this machine, in a browser, without a Telegram account.

In one folder (``--dir``, else a temporary one removed at exit) the demo writes a config that
points at the sandbox, a fresh SQLite file and the demo plant (``bot/demo_plant.toml``
with today's date filled in); starts the sandbox in this process; imports the org; creates a
sandbox person for everyone but the one who never joined and onboards them the real way (an
invite link each, ``/start <code>`` through the person API); then starts ``execbot run`` as a
subprocess on a virtual clock one minute before the first nudge, and serves the chat page.
Ctrl+C (or SIGTERM) stops the bot, then the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO

import httpx

from bot.demo_setup import (
    DEFAULT_PORT,
    LEAD_TIME,
    NEVER_JOINED,
    PLANT_NAME,
    PLANT_TIMEZONE,
    READY_TIMEOUT,
    TOKEN_ENV,
    DemoError,
    DemoFiles,
    Member,
    clock_start,
    first_nudge,
    import_and_invite,
    load_settings,
    members_of,
    onboard,
    plant_today,
    prepare_folder,
    write_files,
)
from bot.runtime import CLOCK_START_ENV
from bot.services.onboarding import IssuedInvite
from models.org_spec import OrgSpec
from sandbox.client import AsyncSandboxClient
from sandbox.server import SandboxServer
from sandbox.state import DEFAULT_TOKEN

# --- the bot process -------------------------------------------------------------------------


def execbot_command() -> list[str]:
    """How to run this execbot: the installed script next to Python, else via ``-c``."""
    script = Path(sys.executable).with_name("execbot")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from bot.cli import main; main()"]


def bot_environment(files: DemoFiles, start: datetime) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECBOT_")}
    env.update(
        {
            "EXECBOT_CONFIG": str(files.config),
            TOKEN_ENV: DEFAULT_TOKEN,
            CLOCK_START_ENV: start.isoformat(),
        }
    )
    return env


async def start_bot(
    files: DemoFiles, start: datetime, log: IO[bytes]
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *execbot_command(),
        "run",
        cwd=files.root,
        env=bot_environment(files, start),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )


def clock_note(start: datetime) -> str:
    return (
        f"Time runs fast: the plant's day starts at {start.strftime('%H:%M')} and the demo's "
        "reminders and escalations come minutes apart, not hours."
    )


async def show_clock(url: str, start: datetime) -> None:
    """Have the chat page show the bot's clock (which reads ``start`` now), not the wall's."""
    body = {"start": start.isoformat(), "timezone": PLANT_TIMEZONE, "note": clock_note(start)}
    async with httpx.AsyncClient(timeout=10) as http:
        (await http.post(f"{url}/sandbox/clock", json=body)).raise_for_status()


async def wait_ready(
    client: AsyncSandboxClient,
    bot: asyncio.subprocess.Process,
    files: DemoFiles,
    stop: asyncio.Event,
) -> None:
    """Until the bot has set its commands (the end of its start-up), or Ctrl+C."""
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
    while not any(call["status"] == 200 for call in await client.calls("setMyCommands")):
        if stop.is_set():
            return
        if bot.returncode is not None:
            raise DemoError(f"the bot stopped at start-up:\n{log_tail(files.bot_log)}")
        if asyncio.get_running_loop().time() > deadline:
            raise DemoError(f"the bot did not start within a minute:\n{log_tail(files.bot_log)}")
        await asyncio.sleep(0.2)


async def stop_bot(bot: asyncio.subprocess.Process) -> None:
    if bot.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            bot.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                bot.kill()
            await bot.wait()


def log_tail(path: Path, lines: int = 20) -> str:
    text = path.read_text("utf-8", "replace") if path.exists() else ""
    return "\n".join("  | " + line for line in text.splitlines()[-lines:])


# --- the whole demo --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    port: int | None
    directory: Path | None
    host: str = "127.0.0.1"
    run_for: float | None = None  # seconds after the bot is up; None: until Ctrl+C


async def open_sandbox(options: Options) -> SandboxServer:
    """The sandbox on the chosen port; without --port, 8080 or else any free port."""
    wanted = DEFAULT_PORT if options.port is None else options.port
    try:
        return await SandboxServer(options.host, wanted, limits=True).__aenter__()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise DemoError(f"cannot listen on {options.host}:{wanted}: {exc}") from None
        if options.port is not None:
            raise DemoError(f"port {wanted} is in use; pick another with --port") from None
    server = await SandboxServer(options.host, 0, limits=True).__aenter__()
    print(f"  port {DEFAULT_PORT} is in use; using {server.port} instead")
    return server


def local_url(server: SandboxServer) -> str:
    """The URL the bot and the browser use (loopback when listening on every interface)."""
    host = server.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{server.port}"


def describe(
    spec: OrgSpec, members: list[Member], invites: list[IssuedInvite], today: date
) -> None:
    units, people, duties = spec.units or [], spec.people or [], spec.duties or []
    print(f"  org imported: {len(units)} units, {len(people)} people, {len(duties)} daily duties")
    print(f"  {len(members)} people joined through their invite links (/start <code>)")
    for absence in spec.absences or []:
        if absence.start <= today <= absence.end:
            name = next((p.name for p in people if p.key == absence.person), absence.person)
            print(f"  {name} is away today ({absence.kind}): no nudges for them")
    for invite in invites:
        if invite.person_key in NEVER_JOINED:
            print(f"  {invite.person_name} has not joined yet (invite link: {invite.link})")


async def main(options: Options, stop: asyncio.Event) -> int:
    root, temporary = prepare_folder(options.directory)
    server: SandboxServer | None = None
    bot: asyncio.subprocess.Process | None = None
    log: IO[bytes] | None = None
    try:
        kept = "a temporary folder, removed at exit" if temporary else "kept at exit"
        print(f"execbot demo: {PLANT_NAME}, files in {root} ({kept})", flush=True)
        server = await open_sandbox(options)
        url = local_url(server)
        print(f"  sandbox (a local stand-in for Telegram) on {url}")
        if server.host in ("0.0.0.0", "::", ""):
            print(f"  listening on every interface: from elsewhere open port {server.port}")
        today = plant_today()
        files = write_files(root, url, today)
        settings = await asyncio.to_thread(load_settings, files)
        spec, invites = await asyncio.to_thread(import_and_invite, settings, files)
        members = members_of(spec, today)
        links = {invite.person_key: invite.link for invite in invites}
        async with AsyncSandboxClient(url) as client:
            await onboard(client, members, links)
            describe(spec, members, invites, today)
            start = clock_start(today, first_nudge(spec))
            log = files.bot_log.open("ab")
            bot = await start_bot(files, start, log)
            await show_clock(url, start)
            await wait_ready(client, bot, files, stop)
        if stop.is_set():
            return 0
        first = (start + LEAD_TIME).strftime("%H:%M")
        print(
            f"  bot running (log: {files.bot_log}); plant clock starts at "
            f"{start.strftime('%H:%M')}, first nudges at {first} (in about a minute)",
            flush=True,
        )
        if options.run_for is None:
            print(f"\nOpen {url}/ in your browser.\nCtrl+C to stop.", flush=True)
        else:
            print(f"\nRunning for {options.run_for:g} s (--for), then stopping.", flush=True)
        return await watch(bot, files, stop, options.run_for)
    except DemoError as exc:
        print(f"execbot demo: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if bot is not None:
            print("\nstopping the bot…", flush=True)
            await stop_bot(bot)
        if log is not None:
            log.close()
        if server is not None:
            await server.__aexit__(None, None, None)
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        print("execbot demo stopped.", flush=True)


async def watch(
    bot: asyncio.subprocess.Process,
    files: DemoFiles,
    stop: asyncio.Event,
    run_for: float | None = None,
) -> int:
    """Until Ctrl+C or ``run_for`` seconds (0), or until the bot stops by itself (1, with its
    log's tail)."""
    stopped = asyncio.ensure_future(stop.wait())
    exited = asyncio.ensure_future(bot.wait())
    await asyncio.wait({stopped, exited}, timeout=run_for, return_when=asyncio.FIRST_COMPLETED)
    if bot.returncode is None:
        stop.set()  # Ctrl+C, or the time given with --for is up
    if not stop.is_set():
        # Ctrl+C in a terminal reaches the bot too; give our own handler a moment to see it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    stopped.cancel()
    if stop.is_set():
        return 0
    print(f"execbot demo: the bot stopped unexpectedly:\n{log_tail(files.bot_log)}", flush=True)
    return 1


def run(
    port: int | None = None,
    directory: Path | None = None,
    host: str = "127.0.0.1",
    run_for: float | None = None,
) -> int:
    """Run the demo until Ctrl+C or SIGTERM (or for ``run_for`` seconds); returns the exit
    code."""

    async def runner() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        return await main(Options(port, directory, host, run_for), stop)

    return asyncio.run(runner())

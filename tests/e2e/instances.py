"""Several ``execbot run`` processes on one fresh PostgreSQL database, behind HAProxy.

The harness the multi-instance tests (``test_instances.py``) stand on:

* :func:`fresh_database` creates a PostgreSQL database of its own (dropped afterwards), so
  ``pg_terminate_backend`` can cut exactly the instances' connections;
* :func:`cluster` starts the sandbox (Telegram's limits on, as a process, through
  :func:`tests.e2e.harness.world`), migrates the database, and yields a :class:`Cluster`;
* :meth:`Cluster.start` starts N instances, each on its own port, in webhook mode (with
  HAProxy from ``deploy/haproxy.cfg`` in front: :func:`render_haproxy` renders that very
  file) or in polling mode (no HAProxy);
* :meth:`Cluster.kill` SIGKILLs one instance, :meth:`Cluster.restart` starts it again on its
  port, :meth:`Cluster.terminate_backends` cuts every database connection of the instances;
  at the end every instance gets SIGTERM and HAProxy stops;
* a failed wait raises with the tails of every log (sandbox, instances, HAProxy).

Instances share one virtual clock (``EXECBOT_CLOCK_START``): an instance started later is
given the clock's current reading, so all of them agree on the plant's time.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy import text, update
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col

from bot.store import migrate
from bot.store.engine import make_engine
from models.tables import Person
from sandbox.server import DEFAULT_TOKEN
from tests.conftest import POSTGRES_URL, ROOT, postgres_unavailable
from tests.e2e.harness import EXECBOT, Proc, World, clean_env, free_port, world

HAPROXY_CONFIG = ROOT / "deploy" / "haproxy.cfg"
SYSTEMD_UNIT = ROOT / "deploy" / "execbot@.service"
URL_PATH = "telegram"
SECRET = "harness-Secret_0123456789"
PORT_ENV = "EXECBOT_SERVER_PORT"
# The real Bot API answers in 100-300 ms; the multi-instance tests and the bench run with it.
TELEGRAM_LATENCY = (0.1, 0.3)
# The sandbox waits the whole latency before it admits (and counts) a call, so sends paced
# evenly at their start reach its 1-second meter up to 0.2 s closer together: the pacing
# margin must cover that spread, plus 0.1 s for a busy machine (0.15 s measured 31 in one
# second at this latency; the default is 0.3 since). ``[delivery] margin`` for the instances
# of a cluster started with ``latency``: see :func:`pacing_for`.
BUSY_MACHINE_SLACK = 0.1


def pacing_for(latency: tuple[float, float]) -> str:
    """The ``[delivery]`` config for instances facing the sandbox with ``latency``: a margin
    of the latency's spread plus :data:`BUSY_MACHINE_SLACK` (0.15 s at least)."""
    margin = max(0.15, round(latency[1] - latency[0] + BUSY_MACHINE_SLACK, 3))
    return f"[delivery]\nmargin = {margin}\n"


Mode = Literal["webhook", "polling"]


def haproxy_binary() -> str | None:
    """Debian's HAProxy, or None where it is not installed."""
    found = shutil.which("haproxy")
    if found:
        return found
    return "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None


def render_haproxy(template: str, frontend_port: int, backend_ports: list[int]) -> str:
    """``deploy/haproxy.cfg`` for a test: the frontend binds plain HTTP on 127.0.0.1 (the
    sandbox delivers to http://) and the backend has one ``server`` line per instance, each
    made from the file's first ``server`` line with the name and port changed."""
    lines = template.splitlines()
    binds = [i for i, line in enumerate(lines) if line.strip().startswith("bind ")]
    servers = [i for i, line in enumerate(lines) if line.strip().startswith("server ")]
    if len(binds) != 1 or not servers:
        raise ValueError("the HAProxy config needs one `bind` line and at least one `server`")
    indent = lines[binds[0]][: len(lines[binds[0]]) - len(lines[binds[0]].lstrip())]
    lines[binds[0]] = f"{indent}bind 127.0.0.1:{frontend_port}"
    first = lines[servers[0]]
    pattern = re.compile(r"^(\s*server\s+)\S+(\s+)\S+:\d+(.*)$")
    if not pattern.match(first):
        raise ValueError(f"cannot read the server line {first!r}")
    made = [
        pattern.sub(rf"\g<1>execbot-{port}\g<2>127.0.0.1:{port}\g<3>", first)
        for port in backend_ports
    ]
    kept = [line for i, line in enumerate(lines) if i not in servers]
    at = servers[0] - sum(1 for i in servers if i < servers[0])
    return "\n".join(kept[:at] + made + kept[at:]) + "\n"


# --- the database -------------------------------------------------------------------------------


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database next to the ``test`` one, dropped after
    (with FORCE: connections left by killed instances do not keep it)."""
    reason = postgres_unavailable()
    if reason:
        raise RuntimeError(reason)
    name = f"execbot_inst_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the cluster --------------------------------------------------------------------------------


@dataclass
class Instance:
    """One ``execbot run`` process (or the slot for it while it is down)."""

    index: int
    port: int
    proc: Proc | None = None
    runs: int = 0  # how many times it was started

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.popen.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.popen.pid if self.proc is not None else None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    """The sandbox, the database, N instances and (in webhook mode) HAProxy."""

    world: World
    db_url: str
    mode: Mode
    clock_start: datetime
    clock_origin: float = field(default_factory=time.monotonic)
    instances: list[Instance] = field(default_factory=list)
    haproxy: Proc | None = None
    frontend_port: int = 0
    config_extra: str = ""
    # what runs as an instance: ``execbot --config FILE run`` unless a test gives a stand-in
    command: list[str] | None = None
    _engine: Engine | None = None

    # --- reading ---

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.db_url)
        return self._engine

    @property
    def client(self) -> Any:
        return self.world.client

    @property
    def webhook_url(self) -> str:
        """Where Telegram (the sandbox) posts updates: HAProxy's frontend."""
        return f"http://127.0.0.1:{self.frontend_port}/{URL_PATH}"

    def now(self) -> datetime:
        """The shared virtual clock's reading."""
        return self.clock_start + timedelta(seconds=time.monotonic() - self.clock_origin)

    def logs(self) -> str:
        procs = [self.world.sandbox, *(i.proc for i in self.instances if i.proc)]
        if self.haproxy is not None:
            procs.append(self.haproxy)
        return "\n".join(proc.tail() for proc in procs)

    def wait(self, what: str, probe: Any, timeout: float = 30.0, every: float = 0.2) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")
            time.sleep(every)

    def get(self, instance: Instance, path: str) -> httpx.Response | None:
        """GET on an instance's own port; None when nothing answers."""
        try:
            return httpx.get(instance.base + path, timeout=2.0)
        except httpx.HTTPError:
            return None

    def ready(self, instance: Instance) -> bool:
        response = self.get(instance, "/readyz")
        return response is not None and response.status_code == 200

    # --- instances ---

    def write_config(self, instance: Instance) -> Path:
        """The instance's config: the shared settings plus its own webhook port."""
        path = self.world.root / f"config-{instance.port}.toml"
        path.write_text(
            "[telegram]\n"
            f'api_base_url = "{self.world.url}/bot"\n'
            f'file_base_url = "{self.world.url}/file/bot"\n'
            f'mode = "{self.mode}"\n'
            'poll_timeout = "2s"\n'
            "[telegram.webhook]\n"
            'listen = "127.0.0.1"\n'
            f"port = {instance.port}\n"
            f'url_path = "{URL_PATH}"\n'
            f'public_url = "{self.webhook_url}"\n'
            "[database]\n"
            f'url = "{self.db_url}"\n'
            "auto_migrate = false\n"
            "[nudges]\n"
            'tick = "1s"\n'
            'plan_every = "1m"\n' + self.config_extra
        )
        return path

    def start(self, count: int) -> list[Instance]:
        """Start ``count`` more instances (and HAProxy in front, in webhook mode)."""
        added = [Instance(len(self.instances) + n, free_port()) for n in range(count)]
        self.instances.extend(added)
        if self.mode == "webhook" and self.haproxy is None:
            self.start_haproxy()
        for instance in added:
            self.launch(instance)
        return added

    def launch(self, instance: Instance) -> Proc:
        config = self.write_config(instance)
        instance.runs += 1
        name = f"execbot-{instance.port}" + (f"-run{instance.runs}" if instance.runs > 1 else "")
        log = self.world.root / f"{name}.log"
        command = self.command or [EXECBOT, "--config", str(config), "--log-level", "DEBUG", "run"]
        popen = subprocess.Popen(
            command,
            cwd=self.world.root,
            env=clean_env(
                EXECBOT_TOKEN=DEFAULT_TOKEN,
                EXECBOT_WEBHOOK_SECRET=SECRET,
                EXECBOT_CLOCK_START=self.now().isoformat(),
                **{PORT_ENV: str(instance.port)},
            ),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        instance.proc = Proc(name, popen, log)
        return instance.proc

    def kill(self, instance: Instance) -> float:
        """SIGKILL the instance; returns the monotonic time of the kill."""
        assert instance.proc is not None
        instance.proc.kill()
        return time.monotonic()

    def restart(self, instance: Instance) -> Proc:
        if instance.alive:
            raise AssertionError(f"{instance.proc and instance.proc.name} is still running")
        return self.launch(instance)

    def stop_all(self) -> dict[str, tuple[int, float]]:
        """SIGTERM every running instance at once; (exit code, seconds to exit) by name.
        One still running after 15 s is killed (and shows 15 s)."""
        began = time.monotonic()
        running = [i.proc for i in self.instances if i.alive and i.proc is not None]
        for proc in running:
            proc.popen.send_signal(signal.SIGTERM)
        stopped: dict[str, tuple[int, float]] = {}
        for proc in running:  # one SIGTERM each: a second one could cut a graceful stop short
            try:
                proc.popen.wait(max(0.1, 15 - (time.monotonic() - began)))
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(5)
            stopped[proc.name] = (int(proc.popen.returncode), time.monotonic() - began)
        return stopped

    def wait_ready(self, instances: list[Instance] | None = None, timeout: float = 60) -> None:
        """Until every given instance answers /readyz with 200 (and, behind HAProxy, the
        sandbox has the webhook set)."""
        for instance in instances if instances is not None else self.instances:
            self.wait(
                f"{instance.proc and instance.proc.name} ready",
                lambda i=instance: self.ready(i),
                timeout,
            )
        if self.haproxy is not None:  # and HAProxy's checks (rise 2) have seen one up
            self.wait("HAProxy to route to an instance", self.routed, timeout)

    def routed(self) -> bool:
        """HAProxy passes a request to an instance: a POST without the secret gets the
        instance's 401 (HAProxy answers 503 while it counts every instance down)."""
        try:
            return httpx.post(self.webhook_url, content=b"{}", timeout=2.0).status_code == 401
        except httpx.HTTPError:
            return False

    def holder_of(self, word: str) -> Instance | None:
        """The running instance holding a live lease whose name contains ``word`` ("poll",
        "send", ...), found by the process id in the lease's holder (host:pid:random)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT name, holder FROM lease WHERE expires_at > now()")
            ).all()
        for name, holder in rows:
            if word not in name:
                continue
            for instance in self.instances:
                if instance.alive and f":{instance.pid}:" in f"{holder}:":
                    return instance
        return None

    def poller(self) -> Instance | None:
        """The instance holding the polling lease."""
        return self.holder_of("poll")

    # --- HAProxy and the webhook ---

    def start_haproxy(self) -> Proc:
        binary = haproxy_binary()
        if binary is None:
            raise RuntimeError("HAProxy is not installed (.ci/run installs Debian's haproxy)")
        self.frontend_port = free_port()
        rendered = render_haproxy(
            HAPROXY_CONFIG.read_text(), self.frontend_port, [i.port for i in self.instances]
        )
        config = self.world.root / "haproxy.cfg"
        config.write_text(rendered)
        log = self.world.root / "haproxy.log"
        popen = subprocess.Popen(
            [binary, "-f", str(config), "-db"],
            cwd=self.world.root,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.haproxy = Proc("haproxy", popen, log)
        return self.haproxy

    def set_webhook(self, max_connections: int = 40) -> None:
        """Tell the sandbox (Telegram) to deliver to HAProxy's frontend with the secret."""
        response = httpx.post(
            f"{self.world.url}/bot{DEFAULT_TOKEN}/setWebhook",
            data={
                "url": self.webhook_url,
                "secret_token": SECRET,
                "max_connections": str(max_connections),
            },
            timeout=10,
        )
        body = response.json()
        if not body.get("ok"):
            raise AssertionError(f"setWebhook: {body}")

    # --- the database ---

    def terminate_backends(self) -> int:
        """``pg_terminate_backend`` on every connection to the cluster's database but this
        one; returns how many were cut."""
        name = make_url(self.db_url).database
        with self.engine.connect() as conn:
            cut = conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM "
                    "pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar_one()
            conn.commit()
        return int(cut)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())


@contextmanager
def cluster(
    root: Path,
    *,
    mode: Mode = "webhook",
    clock_start: datetime,
    limits: bool = True,
    latency: tuple[float, float] = (0.0, 0.0),
    config_extra: str = "",
) -> Iterator[Cluster]:
    """A sandbox process (limits on by default) and a fresh, migrated PostgreSQL database;
    start instances with :meth:`Cluster.start`. With ``latency``, the instances' pacing margin
    covers its spread (:func:`pacing_for`) unless ``config_extra`` has a ``[delivery]``.
    Everything is stopped at the end: instances by SIGTERM, then HAProxy, then the sandbox;
    the database is dropped."""
    with fresh_database() as db_url:
        engine = make_engine(db_url)
        migrate.upgrade(engine)
        engine.dispose()
        with world(root, limits=limits, db_url=db_url, latency=latency) as w:
            if latency[1] > 0 and "[delivery]" not in config_extra:
                config_extra = pacing_for(latency) + config_extra
            c = Cluster(w, db_url, mode, clock_start, config_extra=config_extra)
            try:
                yield c
            finally:
                c.stop_all()
                if c.haproxy is not None:
                    c.haproxy.stop()
                if c._engine is not None:
                    c._engine.dispose()


# --- a nudge wave (the tests and bench/instances_wave.py) ---------------------------------------

NUDGE = re.compile(r"your duties for")
# The plant is in Europe/Berlin (UTC+1 in November); the wave is nudged at 07:00.
WAVE_START = datetime.fromisoformat("2026-11-17T06:59:50+01:00")
FIRST_CHAT = 2_000_000


def wave_org(people: int) -> str:
    """One plant, ``people`` operators, one duty each, nudged at 07:00."""
    lines = [
        '[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\n',
        '[[duties]]\nkey = "round"\ntitle = "Morning round"\npost = "operator"\nunit = "plant"\n'
        'nudge = "07:00"\ndue = "11:00"\n',
    ]
    lines += [
        f'[[people]]\nkey = "p{i}"\nname = "Person {i}"\nunit = "plant"\npost = "operator"\n'
        for i in range(people)
    ]
    return "\n".join(lines)


def prepare_wave(c: Cluster, people: int) -> list[int]:
    """People in the org, joined (bound to their chats) and with their chats open in the
    sandbox; returns their chat ids. Onboarding is tested elsewhere."""
    org = c.world.root / "org.toml"
    org.write_text(wave_org(people))
    (c.world.root / "config.toml").write_text(f'[database]\nurl = "{c.db_url}"\n')
    c.world.execbot("org", "import", str(org))
    chats = [FIRST_CHAT + i for i in range(people)]
    c.client.create_people(
        [{"first_name": f"P{i}", "id": chat} for i, chat in enumerate(chats)], started=True
    )
    with Session(c.engine) as session:
        for i, chat in enumerate(chats):
            session.execute(
                update(Person).where(col(Person.key) == f"p{i}").values(telegram_user_id=chat)
            )
        session.commit()
    return chats


@dataclass
class Wave:
    """Follows the wave through the sandbox's call log; tappers tap Done on their nudge."""

    c: Cluster
    chats: list[int]
    tappers: set[int]
    seq: int = 0
    nudges: Counter[int] = field(default_factory=Counter)
    nudge_times: list[float] = field(default_factory=list)  # wall time of each nudge sent
    waiting_to_tap: set[int] = field(default_factory=set)
    taps: dict[str, dict[str, Any]] = field(default_factory=dict)  # by callback query id

    def follow(self) -> None:
        """Read new calls; tap for every tapper whose nudge arrived."""
        for call in self.c.client.calls("sendMessage", since=self.seq):
            self.seq = max(self.seq, call["seq"])
            if call["status"] != 200 or not NUDGE.search(str(call["params"].get("text", ""))):
                continue
            chat = int(call["params"]["chat_id"])
            self.nudges[chat] += 1
            self.nudge_times.append(call["time"])
            if chat in self.tappers and self.nudges[chat] == 1:
                self.waiting_to_tap.add(chat)
        if self.waiting_to_tap:
            result = self.c.client.tap_latest(sorted(self.waiting_to_tap))
            for tapped in result["tapped"]:
                self.taps[tapped["callback_query_id"]] = tapped
                self.waiting_to_tap.discard(tapped["person_id"])

    def sent(self) -> int:
        return sum(1 for chat in self.chats if self.nudges[chat])

    def until(self, what: str, done: Any, timeout: float) -> None:
        def probe() -> bool:
            self.follow()
            return bool(done())

        self.c.wait(what, probe, timeout=timeout, every=0.3)

    def everyone_nudged(self) -> bool:
        return all(self.nudges[chat] for chat in self.chats) and not self.waiting_to_tap

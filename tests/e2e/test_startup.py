"""Start-up end to end: a slow or unreachable Bot API at start, and what the bot does then."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from sandbox.server import DEFAULT_TOKEN
from tests.e2e.harness import EXECBOT, Proc, World, _healthy, clean_env, world
from tests.e2e.test_nudges import nudge_counts, prepare_wave

LATENCY = (0.1, 0.3)  # every Bot API call waits 100-300 ms, as over the internet


def long_plan_every(w: World) -> None:
    """The harness config, planning only every 10 minutes (the default)."""
    path = w.write_config()
    path.write_text(path.read_text().replace('plan_every = "1m"', 'plan_every = "10m"'))


def test_item4_slow_start_still_plans_and_nudges_at_once(tmp_path: Path) -> None:
    people, first = 3, 30_000
    chats = range(first, first + people)
    with world(tmp_path, latency=LATENCY) as w:
        long_plan_every(w)
        prepare_wave(w, people, first)
        # Telegram slow at start: getMe (initialize and post_init) and setMyCommands take 2 s each.
        w.client.add_fault("delay", method="getMe", seconds=2, count=2)
        w.client.add_fault("delay", method="setMyCommands", seconds=2)
        started = time.monotonic()
        w.start_bot(EXECBOT_CLOCK_START="2026-11-17T07:00:00+01:00")  # nudges due now
        w.wait_ready(w.bots[-1])
        ready = time.monotonic()
        assert ready - started > 5, "the start-up must have been slow"
        w.wait("every person nudged", lambda: all(nudge_counts(w, chats).values()), timeout=15)
        assert time.monotonic() - ready < 8, "planned and nudged within seconds of readiness"
        assert w.client.faults() == []


PASSWORD = "S3cret-Pw"


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://admin:{PASSWORD}@127.0.0.1:1/plant",  # a scheme execbot does not take
        f"postgresql://admin:{PASSWORD}@127.0.0.1:notaport/plant",  # not a valid URL
        f"postgresql://admin:{PASSWORD}@127.0.0.1:1/plant",  # valid, nothing listening
    ],
    ids=["wrong-scheme", "unparsable", "unreachable"],
)
def test_item18_bad_database_url_never_shows_its_password(tmp_path: Path, url: str) -> None:
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "{url}"\n')
    result = subprocess.run(
        [EXECBOT, "run"],
        cwd=tmp_path,
        env=clean_env(EXECBOT_CONFIG=str(tmp_path / "config.toml"), EXECBOT_TOKEN=DEFAULT_TOKEN),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert PASSWORD not in output
    assert "Traceback" not in output
    assert "admin:***@127.0.0.1" in output  # the URL is named, without its password
    assert DEFAULT_TOKEN not in output


BAD_TOKEN = "987654321:AAWrong-token-from-a-typo-0123456789"


@pytest.mark.parametrize(
    ("token", "path", "reason"),
    [
        (BAD_TOKEN, "/bot", "(Unauthorized)"),  # a typo in the token
        (DEFAULT_TOKEN, "/not-the-api/bot", "(Not Found (404)."),  # api_base_url points elsewhere
    ],
    ids=["typo-in-token", "not-a-bot-api"],
)
def test_item18_refused_token_is_one_line_without_the_token(
    tmp_path: Path, token: str, path: str, reason: str
) -> None:
    with world(tmp_path, latency=LATENCY) as w:
        w.write_config()
        config = w.root / "config.toml"
        config.write_text(config.read_text().replace(f"{w.url}/bot", f"{w.url}{path}"))
        result = w.execbot("run", check=False, EXECBOT_TOKEN=token)
        output = result.stdout + result.stderr
        assert result.returncode != 0
        assert token not in output and token.split(":")[1] not in output
        assert "Traceback" not in output
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"execbot: the Bot API at {w.url}{path} refused the bot token")
        assert f"in $EXECBOT_TOKEN {reason}" in last


def start_sandbox(root: Path, port: int, name: str) -> Proc:
    log = root / f"{name}.log"
    popen = subprocess.Popen(
        [EXECBOT, "sandbox", "--port", str(port), "--latency", "0.1-0.3"],
        cwd=root,
        env=clean_env(),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return Proc(name, popen, log)


def test_item18_unreachable_bot_api_is_retried_until_it_answers(tmp_path: Path) -> None:
    with world(tmp_path, latency=LATENCY) as w:
        w.write_config()
        w.sandbox.stop()  # the Bot API address answers nothing: connection refused
        bot = w.start_bot()
        retries = re.compile(
            r"Bot API not reachable at start-up \(getMe: .*\); retrying in (\d+) s"
        )

        def retry_waits() -> list[int] | None:
            found = [int(s) for s in retries.findall(bot.log.read_text())]
            return found if len(found) >= 2 else None

        waits = w.wait("two logged retries", retry_waits, timeout=20)[:2]
        assert waits == [1, 2]  # backoff: each wait longer than the one before
        later = start_sandbox(tmp_path, int(w.url.rsplit(":", 1)[1]), "sandbox-later")
        try:
            w.wait("the sandbox, started later", lambda: _healthy(w.client), timeout=20)
            w.wait_ready(bot)
            assert bot.popen.poll() is None
            log = bot.log.read_text()
            assert DEFAULT_TOKEN not in log and "Traceback" not in log
        finally:
            bot.stop()
            later.stop()

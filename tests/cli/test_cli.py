"""The ``execbot`` command as an admin runs it: a real config file, a real SQLite file; in the
test's process (tests/cli/runner.py), and the first two as a real process."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import migrate
from tests.cli.runner import execbot, subprocess_execbot
from tests.conftest import EXAMPLE_ORG


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text(
        '[telegram]\nbot_username = "plant_bot"\n[database]\nurl = "sqlite:///data/bot.db"\n'
    )
    return tmp_path


def test_run_without_token_says_what_it_needs(workdir: Path) -> None:
    result = subprocess_execbot(workdir, "run")
    assert result.returncode == 2
    assert "no bot token: the environment variable EXECBOT_TOKEN is not set" in result.stderr
    assert "@BotFather" in result.stderr


def test_broken_config_stops_with_file_and_key(workdir: Path) -> None:
    (workdir / "config.toml").write_text('[database]\nurl = 42\n[plant]\ntimezone = "Nowhere"\n')
    result = subprocess_execbot(workdir, "run", env={"EXECBOT_TOKEN": "1:x"})
    assert result.returncode == 2
    assert "config.toml: [database] url: expected a string, got 42" in result.stderr
    assert "config.toml: [plant] timezone: expected an IANA timezone name" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_log_level(workdir: Path) -> None:
    result = execbot(workdir, "--log-level", "LOUD", "db", "status")
    assert result.returncode == 2
    assert "--log-level: expected DEBUG, INFO, WARNING or ERROR" in result.stderr


def test_db_upgrade_import_and_invite(workdir: Path) -> None:
    upgraded = execbot(workdir, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "schema empty -> " in upgraded.stdout
    assert (workdir / "data" / "bot.db").exists()
    head = migrate.head_revision()
    status = execbot(workdir, "db", "status").stdout
    assert f"database: {head}; code: {head}" in status
    assert "inbox: 0 waiting, 0 dead" in status

    dry = execbot(workdir, "org", "import", str(EXAMPLE_ORG), "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("dry run, nothing written:")
    real = execbot(workdir, "org", "import", str(EXAMPLE_ORG))
    assert real.returncode == 0 and "people: 11 created" in real.stdout
    assert "duties: 7 created" in real.stdout and "absences: 1 added" in real.stdout
    again = execbot(workdir, "org", "import", str(EXAMPLE_ORG))
    assert "already up to date" in again.stdout

    invited = execbot(workdir, "invite", "a.weber", "f.koch")
    assert invited.returncode == 0, invited.stderr
    lines = invited.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("a.weber\tAnna Weber\thttps://t.me/plant_bot?start=")
    pending = execbot(workdir, "invite", "--all-pending")
    assert len(pending.stdout.strip().splitlines()) == 11  # unused links do not count as joined

    refused = execbot(workdir, "invite", "ghost")
    assert refused.returncode == 1
    assert "ghost: no such person" in refused.stderr


def test_bad_org_file_exits_nonzero(workdir: Path) -> None:
    bad = workdir / "org.toml"
    bad.write_text('[[people]]\nkey = "x"\n')
    result = execbot(workdir, "org", "import", str(bad))
    assert result.returncode == 1
    assert "people[1], name: required, but missing or empty" in result.stdout


def test_invite_without_known_username(tmp_path: Path) -> None:
    result = execbot(tmp_path, "invite", "--all-pending")
    assert result.returncode == 2
    assert "the bot's username is not known yet" in result.stderr


def test_item19_own_policy_with_the_default_standard_is_accepted(workdir: Path) -> None:
    with (workdir / "config.toml").open("a") as config:
        config.write('[escalation.policies.fast]\nlevels = [{ after = "10m", notify = "next" }]\n')
    result = execbot(workdir, "db", "status")
    assert result.returncode == 0, result.stderr
    assert "configuration error" not in result.stderr


def test_also_commands_say_only_what_changed_in_the_schema(workdir: Path) -> None:
    first = execbot(workdir, "org", "import", str(EXAMPLE_ORG))  # migrates the new database
    assert first.returncode == 0, first.stderr
    steps = [line for line in first.stderr.splitlines() if "alembic" in line]
    assert steps and all("Running upgrade" in line for line in steps), first.stderr
    head = migrate.head_revision()
    assert any(f"-> {head}," in line for line in steps)
    for args in (["db", "status"], ["invite", "a.weber"], ["db", "upgrade"]):
        again = execbot(workdir, *args)
        assert again.returncode == 0, again.stderr
        assert "alembic" not in again.stderr, again.stderr
    assert f"schema {head}, already up to date" in again.stdout

"""The sandbox is its own distribution (``sandbox/``, execbot-sandbox): it imports nothing from
execbot, and the bot's runtime dependencies are only what the bot imports (not the sandbox).
``.ci/package-check`` checks the same from real non-editable installs."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import app

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_SRC = ROOT / "sandbox" / "src" / "sandbox"
BOT_PACKAGES = ("bot", "handlers", "scheduler", "models", "migrations")


def imported_roots(folder: Path) -> dict[str, set[str]]:
    """Top-level module name -> the files (relative to ROOT) importing it, any nesting depth."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def pyproject(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text("utf-8"))


def requirement_names(requirements: object) -> set[str]:
    assert isinstance(requirements, list)
    names = set()
    for requirement in requirements:
        match = re.match(r"[A-Za-z0-9._-]+", requirement)
        assert match, requirement
        names.add(match.group(0).lower().replace("_", "-"))
    return names


def distribution_of(module: str) -> set[str]:
    """The installed distributions providing a top-level module, normalized."""
    providers = metadata.packages_distributions().get(module, [])
    return {name.lower().replace("_", "-") for name in providers}


def test_the_sandbox_imports_only_the_standard_library_and_its_own_dependencies() -> None:
    roots = imported_roots(SANDBOX_SRC)
    assert "sandbox" in roots and "aiohttp" in roots  # the scan sees the imports at all
    declared = requirement_names(
        pyproject(ROOT / "sandbox" / "pyproject.toml")["project"]["dependencies"]
    )
    foreign = {
        name: files
        for name, files in roots.items()
        if name != "sandbox"
        and name not in sys.stdlib_module_names
        and not distribution_of(name) & declared
    }
    assert foreign == {}, "the sandbox imports what its pyproject does not declare"


def test_importing_the_whole_sandbox_loads_nothing_from_execbot() -> None:
    modules = [f"sandbox.{path.stem}" for path in SANDBOX_SRC.glob("*.py")]
    assert "sandbox.server" in modules and "sandbox.client" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(BOT_PACKAGES)!r}))\n"
        "print('telegram' in sys.modules, 'sqlmodel' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / "sandbox", capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "False False"]


def test_the_bots_runtime_dependencies_leave_the_sandbox_out() -> None:
    """aiohttp is the bot's own now (its webhook endpoint and /metrics); the sandbox is not."""
    project = pyproject(ROOT / "pyproject.toml")["project"]
    runtime = requirement_names(project["dependencies"])
    assert "aiohttp" in runtime and "execbot-sandbox" not in runtime
    extras = project["optional-dependencies"]
    assert "execbot-sandbox" in requirement_names(extras["demo"])
    assert "execbot-sandbox" in requirement_names(extras["dev"])
    # the installed metadata says the same (the venv's, not an egg-info left in the tree by a
    # build): no unconditional requirement on the sandbox
    (dist,) = metadata.distributions(name="execbot", path=[sysconfig.get_paths()["purelib"]])
    installed = [r for r in dist.requires or [] if "extra ==" not in r]
    assert installed and "execbot-sandbox" not in requirement_names(installed)


def test_the_bots_wheel_does_not_ship_the_sandbox() -> None:
    tool = pyproject(ROOT / "pyproject.toml")["tool"]
    include = tool["setuptools"]["packages"]["find"]["include"]
    assert include and not [pattern for pattern in include if pattern.startswith("sandbox")]


def test_the_bot_imports_only_what_it_declares_and_the_sandbox_lazily() -> None:
    declared = requirement_names(pyproject(ROOT / "pyproject.toml")["project"]["dependencies"])
    sandbox_users: set[str] = set()
    undeclared: dict[str, set[str]] = {}
    for package in BOT_PACKAGES:
        for name, files in imported_roots(ROOT / package).items():
            if name == "sandbox":
                sandbox_users |= files
            elif (
                name not in (*BOT_PACKAGES, *sys.stdlib_module_names)
                and not distribution_of(name) & declared
            ):
                undeclared.setdefault(name, set()).update(files)
    assert undeclared == {}
    # only the demo and the `execbot sandbox` command, both imported on demand
    assert sandbox_users == {
        "bot/cli/running.py",
        "bot/demo.py",
        "bot/demo_setup.py",
    }
    cli_imports = [
        node
        for path in sorted((ROOT / "bot" / "cli").glob("*.py"))
        for node in ast.parse(path.read_text("utf-8")).body
    ]
    assert not [
        node
        for node in cli_imports
        if isinstance(node, ast.Import | ast.ImportFrom) and "sandbox" in ast.unparse(node)
    ]


@pytest.mark.parametrize("command", [["sandbox"], ["demo", "--for", "0"]])
def test_without_the_sandbox_the_commands_that_need_it_say_so(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sandbox.server", None)  # import fails like when missing
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    assert f"`execbot {command[0]}` needs the sandbox, which is not installed" in result.output
    assert "pip install ./sandbox" in result.output


def test_the_sandboxs_own_command_serves_until_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--no-limits"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"listening on (http://\S+) .*limits off", line)
        assert match, line
        health = httpx.get(f"{match.group(1)}/sandbox/health", timeout=10)
        assert health.status_code == 200 and health.json()["ok"] is True
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_the_sandboxs_own_command_refuses_a_bad_latency() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "--latency", "0.3-0.1"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "--latency: expected MIN-MAX in seconds" in result.stderr

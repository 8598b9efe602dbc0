# execbot: two entry points for a fresh machine (Python 3.11+ and make).
#   make demo   installs into .venv and runs the demo: sandbox, sample plant, bot, chat page
#   make test   installs into .venv and runs lint, format check, types and the whole test suite
#   make run    installs into .venv and starts execbot on the configuration (needs a token)
#   make package-check   pip install . (and ./sandbox) into a fresh venv, run `execbot demo --for 3`
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo run test lint lock clean package-check

# The sandbox (./sandbox, distribution execbot-sandbox) is not on PyPI: the dev extra names it
# and pip takes it from the path given here.
$(BIN)/.installed: pyproject.toml sandbox/pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e ./sandbox -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/execbot demo

run: install
	$(BIN)/execbot run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Eight workers on two cores: the end-to-end tests spend most of their time waiting on the bot
# and the sandbox; worksteal keeps the long ones from piling up on one worker.
PYTEST_ARGS ?= -n 8 --dist worksteal --durations=15

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

package-check:
	PYTHON=$(PYTHON) .ci/package-check

# Both projects' dependencies with the dev extra; the two local projects themselves are left out
# (a constraints file cannot name a path, and they are not on PyPI).
lock:
	$(BIN)/python -m pip install -q uv
	printf '%s\n' '-e ./sandbox' '-e .[dev]' | $(BIN)/uv pip compile - -o requirements.lock \
		--python-version 3.11 --no-emit-package execbot --no-emit-package execbot-sandbox \
		--custom-compile-command 'make lock'

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

"""A strict local Telegram Bot API server for end-to-end tests, benchmarks and demos.

Its own distribution (execbot-sandbox, ``sandbox/pyproject.toml``), importing nothing
from execbot; see ``sandbox/README.md``.  Entry points: :class:`sandbox.server.SandboxServer`,
:func:`sandbox.server.serve`, :class:`sandbox.client.SandboxClient`.
"""

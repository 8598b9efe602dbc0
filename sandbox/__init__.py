"""A strict local Telegram Bot API server for end-to-end tests, benchmarks and demos.

See ``sandbox/README.md``.  Entry points: :class:`sandbox.server.SandboxServer`,
:func:`sandbox.server.serve`, :class:`sandbox.client.SandboxClient`.
"""

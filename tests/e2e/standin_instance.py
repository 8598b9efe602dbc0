"""A stand-in for ``execbot run`` in webhook mode, for testing the multi-instance harness
before execbot's own webhook server exists: serves ``GET /readyz`` and ``POST /telegram``
on ``$EXECBOT_SERVER_PORT``, checks the secret header against ``$EXECBOT_WEBHOOK_SECRET``
(401 otherwise), appends each update id to ``received-<port>.txt`` in the working folder,
and exits 0 on SIGTERM. Run as ``python tests/e2e/standin_instance.py``."""

from __future__ import annotations

import os
from pathlib import Path

from aiohttp import web


def main() -> None:
    port = int(os.environ["EXECBOT_SERVER_PORT"])
    secret = os.environ["EXECBOT_WEBHOOK_SECRET"]
    record = Path.cwd() / f"received-{port}.txt"

    async def readyz(request: web.Request) -> web.Response:
        return web.Response(text="ready")

    async def hook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.Response(status=401)
        update = await request.json()
        with record.open("a") as out:
            out.write(f"{update['update_id']}\n")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/readyz", readyz)
    app.router.add_post("/telegram", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()

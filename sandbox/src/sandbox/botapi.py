"""The Bot API side: ``/bot<token>/<method>`` and ``/file/bot<token>/<file_path>``.

Request handling, in the real server's order:

1. Token.  A malformed token (empty, starting with 0, over 80 characters, containing "/" or
   no ":") is 401 "Unauthorized: invalid token specified"; a bot id that is not a number is
   421 "Misdirected Request: unallowed token specified" (``ClientManager::send``); a
   well-formed token the sandbox was not started with is 401 "Unauthorized".
2. Method.  Names are case-insensitive ("All methods in the Bot API are case-insensitive.",
   https://core.telegram.org/bots/api#making-requests); an unknown one is 404 "Not Found".
3. Faults queued through the person API (:mod:`sandbox.faults`).
4. The method: parameter checks, then the chat (``chat_id is empty``, ``chat not found``),
   then tdlib-level text rules, then what Telegram's servers refuse (403 blocked / can't
   initiate, BUTTON_DATA_INVALID) and finally flood control (:mod:`sandbox.ratelimit`).

Answers are ``{"ok": true, "result": ...}`` (setWebhook/deleteWebhook add Telegram's
``description``) or the error body of :mod:`sandbox.errors`, with the HTTP status equal to the
error code.  Every call with a known token lands in the call log and the counters.

Methods: getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, sendMessage,
sendPhoto, sendDocument, editMessageText, editMessageReplyMarkup, deleteMessage,
answerCallbackQuery, getFile, setMyCommands, getMyCommands, deleteMyCommands, sendChatAction,
getChat.
Method-specific rules are in each function's docstring: here getMe, getFile and the command
lists; the chat and message methods in :mod:`sandbox.chats`; getUpdates and the webhook
methods in :mod:`sandbox.receiving`.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.chats import (
    answer_callback_query,
    delete_message,
    edit_message_reply_markup,
    edit_message_text,
    get_chat,
    send_chat_action,
    send_document,
    send_message,
    send_photo,
)
from sandbox.errors import (
    BAD_GATEWAY,
    INTERNAL_SERVER_ERROR,
    INVALID_TOKEN,
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    bad_request,
    too_many_requests,
)
from sandbox.params import Params, json_arg, read_params, text_arg
from sandbox.receiving import (
    Described,
    delete_webhook,
    get_updates,
    get_webhook_info,
    set_webhook,
)
from sandbox.state import Bot, Sandbox

JSON_TYPE = "application/json"
BOT_COMMAND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def _json_response(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(payload).encode(), status=status, content_type=JSON_TYPE)


def _token_error(token: str) -> ApiError:
    """Why an unknown token is refused, per ``ClientManager::send``."""
    if not token or token[0] == "0" or len(token) > 80 or "/" in token or ":" not in token:
        return ApiError(401, INVALID_TOKEN)
    try:
        bot_id = int(token.split(":", 1)[0])
    except ValueError:
        return ApiError(421, "Misdirected Request: unallowed token specified")
    if bot_id <= 0 or bot_id >= 1 << 54:
        return ApiError(401, INVALID_TOKEN)
    return ApiError(401, UNAUTHORIZED)


# --- the bot's own methods (the others: sandbox.chats, sandbox.receiving) -------------------


def get_me(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """The bot's User object, with the getMe-only capability fields."""
    return bot.me()


def get_file(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """The File object; its file_path is served under /file/bot<token>/."""
    stored = sandbox.files.get(text_arg(params, "file_id").strip())
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.file()


def _command_key(params: Params) -> tuple[str, str]:
    scope = json_arg(params, "scope", "can't parse BotCommandScope JSON object")
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict):
        raise bad_request("BotCommandScope must be an Object")
    return json.dumps(scope, sort_keys=True), text_arg(params, "language_code")


def set_my_commands(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Store the command list for a scope and language, validated like tdlib + server."""
    raw = json_arg(params, "commands", "can't parse commands JSON object")
    if not isinstance(raw, list):
        raise bad_request("expected an Array of BotCommand")
    commands: list[dict[str, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: expected an Object")
        for name in ("command", "description"):
            if not isinstance(item.get(name), str):
                raise bad_request(f'can\'t parse BotCommand: Field "{name}" must be of type String')
        command = item["command"].strip().removeprefix("/")
        description = item["description"].strip()
        if not command:
            raise bad_request("command must be non-empty")
        if len(command) > 32:
            raise bad_request("command length must not exceed 32")
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > 256:
            raise bad_request("command description length must not exceed 256")
        if not set(command) <= BOT_COMMAND_CHARS:
            raise bad_request("BOT_COMMAND_INVALID")
        commands.append({"command": command, "description": description})
    key = _command_key(params)
    if commands:
        bot.commands[key] = commands
    else:
        bot.commands.pop(key, None)
    return True


def delete_my_commands(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Remove the command list of exactly this scope and language (True even if none)."""
    bot.commands.pop(_command_key(params), None)
    return True


def get_my_commands(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """The command list stored for exactly this scope and language (empty when none)."""
    return list(bot.commands.get(_command_key(params), []))


@dataclass(frozen=True, slots=True)
class Method:
    """A Bot API method: canonical name, implementation, whether it must be awaited."""

    name: str
    run: Callable[[Sandbox, Bot, Params], Any]
    is_async: bool = False


METHODS: dict[str, Method] = {
    method.name.lower(): method
    for method in (
        Method("getMe", get_me),
        Method("getUpdates", get_updates, is_async=True),
        Method("setWebhook", set_webhook),
        Method("deleteWebhook", delete_webhook),
        Method("getWebhookInfo", get_webhook_info),
        Method("sendMessage", send_message),
        Method("sendPhoto", send_photo),
        Method("sendDocument", send_document),
        Method("editMessageText", edit_message_text),
        Method("editMessageReplyMarkup", edit_message_reply_markup),
        Method("deleteMessage", delete_message),
        Method("answerCallbackQuery", answer_callback_query),
        Method("getFile", get_file),
        Method("setMyCommands", set_my_commands),
        Method("getMyCommands", get_my_commands),
        Method("deleteMyCommands", delete_my_commands),
        Method("sendChatAction", send_chat_action),
        Method("getChat", get_chat),
    )
}


class BotApi:
    """aiohttp handlers for the Bot API and file downloads."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        sandbox = self.sandbox
        token = request.match_info["token"]
        bot = sandbox.bots.get(token)
        if bot is None:
            error = _token_error(token)
            return _json_response(error.payload(), error.status)
        name = request.match_info["method"]
        key = name.lower()
        method = METHODS.get(key)
        if method is None:
            return self._finish(bot, name, {}, ApiError(404, NOT_FOUND))
        try:
            params = await read_params(request)
        except ApiError as error:
            return self._finish(bot, method.name, {}, error)
        low, high = sandbox.latency
        if high > 0:  # the real Bot API answers in 100-300 ms, not at loopback speed
            await asyncio.sleep(random.uniform(low, high))
        fault = sandbox.faults.take(key, params.get("chat_id")) if sandbox.faults else None
        if fault is not None:
            if fault.kind == "drop":
                self._record(bot, method.name, params, 0, "connection dropped by fault")
                return _drop(request)
            if fault.kind == "error":
                failure = _fault_error(fault.status, fault.retry_after)
                return self._finish(bot, method.name, params, failure)
            await asyncio.sleep(fault.seconds)
        try:
            result = method.run(sandbox, bot, params)
            if method.is_async:
                result = await result
        except ApiError as error:
            return self._finish(bot, method.name, params, error)
        self._record(bot, method.name, params, 200, None)
        if isinstance(result, Described):
            return _json_response(
                {"ok": True, "result": result.result, "description": result.description}
            )
        return _json_response({"ok": True, "result": result})

    def _record(
        self, bot: Bot, method: str, params: Params, status: int, error: str | None
    ) -> None:
        self.sandbox.calls.add(bot.id, method, params, status, error)
        self.sandbox.counters.count(method, status)

    def _finish(self, bot: Bot, method: str, params: Params, error: ApiError) -> web.Response:
        self._record(bot, method, params, error.status, error.description)
        return _json_response(error.payload(), error.status)

    async def download(self, request: web.Request) -> web.StreamResponse:
        """Serve a stored file to a valid token, like https://api.telegram.org/file/bot<token>/."""
        token = request.match_info["token"]
        if token not in self.sandbox.bots:
            error = _token_error(token)
            return _json_response(error.payload(), error.status)
        stored = self.sandbox.files_by_path.get(request.match_info["path"])
        if stored is None:
            return _json_response(ApiError(404, NOT_FOUND).payload(), 404)
        return web.Response(body=stored.data, content_type=stored.mime_type)


def _fault_error(status: int, retry_after: int) -> ApiError:
    if status == 429:
        return too_many_requests(retry_after)
    if status == 500:
        return ApiError(500, INTERNAL_SERVER_ERROR)
    return ApiError(502, BAD_GATEWAY)


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering (the returned response is never written)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=204)

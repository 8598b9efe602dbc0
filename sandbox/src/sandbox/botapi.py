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
answerCallbackQuery, getFile, setMyCommands, getMyCommands, sendChatAction, getChat.
Method-specific rules are in each function's docstring.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.errors import (
    BAD_GATEWAY,
    INTERNAL_SERVER_ERROR,
    INVALID_TOKEN,
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    bad_request,
    forbidden,
    too_many_requests,
)
from sandbox.images import image_size
from sandbox.markup import Markup, button_data_error, parse_reply_markup
from sandbox.params import (
    Params,
    Upload,
    bool_arg,
    chat_id_arg,
    int_arg,
    json_arg,
    read_params,
    text_arg,
)
from sandbox.state import Bot, Chat, FileKind, Message, Sandbox, StoredFile
from sandbox.text import CAPTION, MESSAGE_TEXT, finalize_text, parse_text
from sandbox.updates import (
    DEFAULT_ALLOWED,
    MAX_LONG_POLL,
    TERMINATED_BY_SET_WEBHOOK,
    parse_allowed_updates,
)
from sandbox.webhook import Webhook, deliver

JSON_TYPE = "application/json"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BOT_COMMAND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True, slots=True)
class Described:
    """A result that Telegram sends together with a ``description``."""

    result: Any
    description: str


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


# --- shared checks -------------------------------------------------------------------------


def _chat(bot: Bot, params: Params) -> Chat:
    chat = bot.chat(chat_id_arg(params))
    if chat is None:
        raise bad_request("chat not found")
    return chat


def _check_can_write(chat: Chat) -> None:
    """The server-side refusals for private chats (403)."""
    if chat.type == "private":
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if not chat.started:
            raise forbidden("bot can't initiate conversation with a user")


def _admit(sandbox: Sandbox, chat: Chat, counts_globally: bool) -> None:
    now = time.monotonic()
    retry_after = sandbox.limiter.admit(chat.id, chat.is_group, counts_globally, now)
    if retry_after:
        raise too_many_requests(retry_after)
    sandbox.counters.meter.record(chat.id, counts_globally, now)


def _reply_target(chat: Chat, params: Params) -> Message | None:
    """reply_parameters (or the older reply_to_message_id) resolved in this chat."""
    reply = json_arg(params, "reply_parameters", "can't parse reply parameters JSON object")
    if isinstance(reply, dict):
        raw_id = reply.get("message_id")
        message_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else 0
        allow = reply.get("allow_sending_without_reply") is True
    else:
        message_id = int_arg(params, "reply_to_message_id")
        allow = bool_arg(params, "allow_sending_without_reply")
    if message_id <= 0:
        return None
    target = chat.live_message(message_id)
    if target is None and not allow:
        raise bad_request("message to be replied not found")
    return target


def _bot_message(sandbox: Sandbox, bot: Bot, chat: Chat, **content: Any) -> Message:
    message = Message(chat.new_message_id(), chat, None, bot.user, sandbox.now(), **content)
    chat.add_message(message)
    _announce(sandbox, bot, chat, "message", message.message_id, sender="bot")
    return message


def _announce(
    sandbox: Sandbox, bot: Bot, chat: Chat, kind: str, message_id: int, **extra: Any
) -> None:
    """Tell watchers (the chat page) that this chat changed."""
    sandbox.events.publish(kind, bot_id=bot.id, chat_id=chat.id, message_id=message_id, **extra)


def _edit_markup(params: Params) -> Markup | None:
    markup = parse_reply_markup(params.get("reply_markup"))
    if markup is not None and markup.kind != "inline":
        raise bad_request("inline keyboard expected")
    return markup


def _message_to_edit(chat: Chat, params: Params) -> Message:
    message_id = int_arg(params, "message_id")
    if message_id <= 0:
        raise bad_request("message identifier is not specified")
    message = chat.live_message(message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if message.sender is not None:
        raise bad_request("message can't be edited")
    return message


def _markup_data(markup: Markup | None) -> dict[str, Any] | None:
    return markup.data if markup is not None else None


# --- methods -------------------------------------------------------------------------------


def get_me(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """The bot's User object, with the getMe-only capability fields."""
    return bot.me()


def send_message(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Text with optional HTML, reply markup and reply target; counts for flood control."""
    chat, reply_to, markup, text, entities = _new_message(sandbox, bot, params, "text")
    message = _bot_message(
        sandbox, bot, chat, text=text, entities=entities, markup=markup, reply_to=reply_to
    )
    return message.to_api()


def _media_source(
    sandbox: Sandbox, params: Params, kind: FileKind
) -> tuple[StoredFile | None, Upload | None, tuple[int, int]]:
    """The file to send: an earlier file_id, or an upload (multipart or attach://name)."""
    value = params.get(kind)
    if isinstance(value, str) and value.startswith("attach://"):
        value = params.get(value[len("attach://") :])
    if isinstance(value, Upload):
        if not value.data:
            raise bad_request("file must be non-empty")
        if kind == "photo":
            size = image_size(value.data)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            return None, value, size
        return None, value, (0, 0)
    file_id = value.strip() if isinstance(value, str) else ""
    if not file_id:
        raise bad_request(f"there is no {kind} in the request")
    stored = sandbox.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request("type of file mismatch")
    return stored, None, (stored.width, stored.height)


def _read_text(params: Params, field: str) -> tuple[str, list[dict[str, Any]]]:
    """A message's ``text`` (with ``entities``) or a media ``caption`` (with
    ``caption_entities``), parsed in ``parse_mode``; checked against its length limit later."""
    return parse_text(
        text_arg(params, field),
        text_arg(params, "parse_mode"),
        json_arg(
            params,
            f"{field}_entities" if field == "caption" else "entities",
            "can't parse entities JSON object",
        ),
        MESSAGE_TEXT if field == "text" else CAPTION,
    )


def _new_message(
    sandbox: Sandbox, bot: Bot, params: Params, field: str
) -> tuple[Chat, Message | None, Markup | None, str, list[dict[str, Any]]]:
    """What every sending method checks, in Telegram's order: the text or caption, the
    markup, the chat, the reply target, the length, the right to write, the buttons, and
    flood control. Returns the chat, reply target, markup, text and entities."""
    text, entities = _read_text(params, field)
    markup = parse_reply_markup(params.get("reply_markup"))
    chat = _chat(bot, params)
    reply_to = _reply_target(chat, params)
    text, entities = finalize_text(text, entities, MESSAGE_TEXT if field == "text" else CAPTION)
    _check_can_write(chat)
    if (error := button_data_error(markup)) is not None:
        raise error
    _admit(sandbox, chat, True)
    return chat, reply_to, markup, text, entities


def _send_media(sandbox: Sandbox, bot: Bot, params: Params, kind: FileKind) -> Any:
    existing, upload, (width, height) = _media_source(sandbox, params, kind)
    chat, reply_to, markup, caption, caption_entities = _new_message(
        sandbox, bot, params, "caption"
    )
    if existing is None:
        assert upload is not None
        name = upload.filename or ("photo.jpg" if kind == "photo" else "document")
        existing = sandbox.store_file(kind, upload.data, name, upload.content_type, width, height)
    message = _bot_message(
        sandbox,
        bot,
        chat,
        caption=caption or None,
        caption_entities=caption_entities,
        markup=markup,
        file=existing,
        reply_to=reply_to,
    )
    return message.to_api()


def send_photo(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """A photo by upload or file_id; the bytes must be a PNG, JPEG, GIF, WebP or BMP image.

    URLs are not fetched (the sandbox has no internet); they are refused like an unknown id.
    """
    return _send_media(sandbox, bot, params, "photo")


def send_document(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """A document by upload or file_id; the mime type comes from the upload or the name."""
    return _send_media(sandbox, bot, params, "document")


def edit_message_text(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Replace a bot message's text; without reply_markup the inline keyboard is removed.

    https://core.telegram.org/bots/api#editmessagetext; inline_message_id is not supported.
    """
    text, entities = _read_text(params, "text")
    markup = _edit_markup(params)
    chat = _chat(bot, params)
    message = _message_to_edit(chat, params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = finalize_text(text, entities, MESSAGE_TEXT)
    _check_can_write(chat)
    current = message.inline
    if (
        text == message.text
        and entities == message.entities
        and _markup_data(markup) == _markup_data(current)
    ):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    if (error := button_data_error(markup)) is not None:
        raise error
    _admit(sandbox, chat, False)
    message.text, message.entities, message.markup = text, entities, markup
    message.edit_date = sandbox.now()
    message.edit_count += 1
    _announce(sandbox, bot, chat, "edit", message.message_id)
    return message.to_api()


def edit_message_reply_markup(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Replace (or, without reply_markup, remove) a bot message's inline keyboard."""
    markup = _edit_markup(params)
    chat = _chat(bot, params)
    message = _message_to_edit(chat, params)
    _check_can_write(chat)
    if _markup_data(markup) == _markup_data(message.inline):
        raise bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )
    if (error := button_data_error(markup)) is not None:
        raise error
    _admit(sandbox, chat, False)
    message.markup = markup
    message.edit_date = sandbox.now()
    message.edit_count += 1
    _announce(sandbox, bot, chat, "edit", message.message_id)
    return message.to_api()


def delete_message(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Delete a message (a bot may delete incoming messages in private chats too)."""
    chat = _chat(bot, params)
    message_id = int_arg(params, "message_id")
    if message_id <= 0:
        raise bad_request("message identifier is not specified")
    message = chat.live_message(message_id)
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    _announce(sandbox, bot, chat, "delete", message.message_id)
    return True


def answer_callback_query(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Answer a callback query once; a second answer or an unknown id is refused."""
    query_id = text_arg(params, "callback_query_id").strip()
    query = bot.callback_queries.get(query_id)
    if query is None or query.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    query.answered = True
    sandbox.counters.callbacks_answered += 1
    answer: dict[str, Any] = {
        "kind": "callback_answer",
        "callback_query_id": query_id,
        "message_id": query.message.message_id,
        "person_id": query.person.id,
        "date": sandbox.now(),
        "text": text_arg(params, "text") or None,
        "show_alert": bool_arg(params, "show_alert"),
        "url": text_arg(params, "url") or None,
    }
    query.chat.timeline.append(answer)
    _announce(
        sandbox,
        bot,
        query.chat,
        "callback_answer",
        query.message.message_id,
        person_id=query.person.id,
        text=answer["text"],
        show_alert=answer["show_alert"],
    )
    return True


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


def get_my_commands(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """The command list stored for exactly this scope and language (empty when none)."""
    return list(bot.commands.get(_command_key(params), []))


def send_chat_action(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Accept a known action for a chat the bot may write to."""
    action = text_arg(params, "action").strip().lower()
    chat = _chat(bot, params)
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    _check_can_write(chat)
    return True


def get_chat(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """ChatFullInfo of a private chat with a known person or of one of the bot's groups."""
    return _chat(bot, params).full_info()


async def get_updates(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Pending updates from ``offset``; waits up to ``timeout`` seconds when there are none."""
    if bot.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = int_arg(params, "offset")
    limit = min(max(int_arg(params, "limit", 100), 1), 100)
    timeout = min(max(int_arg(params, "timeout"), 0), MAX_LONG_POLL)
    queue = bot.updates
    allowed = parse_allowed_updates(params.get("allowed_updates"))
    if allowed is not None:
        queue.allowed = allowed
    queue.confirm(offset)
    if not queue.items and timeout > 0:
        await queue.long_poll(timeout)
        queue.confirm(offset)
    return queue.pending(limit)


def set_webhook(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Deliver updates to ``url`` from now on; an empty url deletes the webhook."""
    url = text_arg(params, "url").strip()
    if not url:
        return delete_webhook(sandbox, bot, params)
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        raise bad_request("invalid webhook URL specified")
    allowed = parse_allowed_updates(params.get("allowed_updates"))
    if allowed is not None:
        bot.updates.allowed = allowed
    if bool_arg(params, "drop_pending_updates"):
        bot.updates.items.clear()
    max_connections = min(max(int_arg(params, "max_connections", 40), 1), 100)
    secret = text_arg(params, "secret_token")
    current = bot.webhook
    if current is not None and (current.url, current.secret_token, current.max_connections) == (
        url,
        secret,
        max_connections,
    ):
        return Described(True, "Webhook is already set")
    if current is not None:
        current.stop()
    bot.updates.abort_long_poll(TERMINATED_BY_SET_WEBHOOK)
    webhook = Webhook(url, secret, max_connections)
    bot.webhook = webhook
    if sandbox.http is None:
        sandbox.http = aiohttp.ClientSession()
    webhook.task = asyncio.get_running_loop().create_task(
        deliver(webhook, bot.updates, sandbox.http)
    )
    return Described(True, "Webhook was set")


def delete_webhook(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Stop webhook delivery; pending updates stay unless drop_pending_updates is true."""
    if bool_arg(params, "drop_pending_updates"):
        bot.updates.items.clear()
    if bot.webhook is None:
        return Described(True, "Webhook is already deleted")
    bot.webhook.stop()
    bot.webhook = None
    return Described(True, "Webhook was deleted")


def get_webhook_info(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """WebhookInfo; ``url`` is empty while polling."""
    queue = bot.updates
    if bot.webhook is None:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(queue.items),
        }
    return bot.webhook.info(len(queue.items), queue.allowed, DEFAULT_ALLOWED)


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
        if sandbox.faults and (fault := sandbox.faults.take(key)) is not None:
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

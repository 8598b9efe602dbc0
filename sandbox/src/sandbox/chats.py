"""Bot API methods on chats and their messages: send, edit, delete, answer a tap, chat info.

Every sending method checks in Telegram's order (``_new_message``): the text or caption,
the markup, the chat, the reply target, the length, the right to write (403 blocked / can't
initiate), the buttons (BUTTON_DATA_INVALID) and finally flood control
(:mod:`sandbox.ratelimit`).  Method-specific rules are in each function's docstring.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.errors import bad_request, forbidden, too_many_requests
from sandbox.images import image_size
from sandbox.markup import Markup, button_data_error, parse_reply_markup
from sandbox.params import Params, Upload, bool_arg, chat_id_arg, int_arg, json_arg, text_arg
from sandbox.records import Chat, FileKind, Message, StoredFile
from sandbox.state import Bot, Sandbox
from sandbox.text import CAPTION, MESSAGE_TEXT, finalize_text, parse_text

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
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


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


def _target(chat: Chat, params: Params, action: str) -> Message:
    """The live message ``message_id`` names, for an ``action`` ("edit", "delete")."""
    message_id = int_arg(params, "message_id")
    if message_id <= 0:
        raise bad_request("message identifier is not specified")
    message = chat.live_message(message_id)
    if message is None:
        raise bad_request(f"message to {action} not found")
    return message


def _message_to_edit(chat: Chat, params: Params) -> Message:
    message = _target(chat, params, "edit")
    if message.sender is not None:
        raise bad_request("message can't be edited")
    return message


def _markup_data(markup: Markup | None) -> dict[str, Any] | None:
    return markup.data if markup is not None else None


# --- methods -------------------------------------------------------------------------------


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


def _apply_edit(
    sandbox: Sandbox,
    bot: Bot,
    chat: Chat,
    message: Message,
    markup: Markup | None,
    text: tuple[str, list[dict[str, Any]]] | None = None,
) -> Any:
    """The end of both edits: refuse a no-op and bad buttons, flood control, then the edit
    (``text``: the new text and entities; ``None`` keeps them)."""
    same_text = text is None or text == (message.text, message.entities)
    if same_text and _markup_data(markup) == _markup_data(message.inline):
        raise bad_request(NOT_MODIFIED)
    if (error := button_data_error(markup)) is not None:
        raise error
    _admit(sandbox, chat, False)
    if text is not None:
        message.text, message.entities = text
    message.markup = markup
    message.edit_date = sandbox.now()
    message.edit_count += 1
    _announce(sandbox, bot, chat, "edit", message.message_id)
    return message.to_api()


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
    return _apply_edit(sandbox, bot, chat, message, markup, (text, entities))


def edit_message_reply_markup(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Replace (or, without reply_markup, remove) a bot message's inline keyboard."""
    markup = _edit_markup(params)
    chat = _chat(bot, params)
    message = _message_to_edit(chat, params)
    _check_can_write(chat)
    return _apply_edit(sandbox, bot, chat, message, markup)


def delete_message(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Delete a message (a bot may delete incoming messages in private chats too)."""
    chat = _chat(bot, params)
    message = _target(chat, params, "delete")
    message.deleted = True
    _announce(sandbox, bot, chat, "delete", message.message_id)
    return True


def answer_callback_query(sandbox: Sandbox, bot: Bot, params: Params) -> Any:
    """Answer a callback query once, within the answer window after the tap; a second answer,
    a late one or an unknown id is refused.  The first answer's delay is counted
    (:meth:`sandbox.stats.Counters.tap_answered`)."""
    query_id = text_arg(params, "callback_query_id").strip()
    query = bot.callback_queries.get(query_id)
    if query is None or query.answered or query.too_late:
        raise bad_request(QUERY_TOO_OLD)
    waited = time.monotonic() - query.created
    late = waited > sandbox.limiter.limits.answer_window
    sandbox.counters.tap_answered(waited, late)
    if late:
        query.too_late = True
        raise bad_request(QUERY_TOO_OLD)
    query.answered = True
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

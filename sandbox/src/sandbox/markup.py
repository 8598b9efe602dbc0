"""``reply_markup``: parsed and rejected the way the real Bot API server does it.

A port of ``Client::get_reply_markup`` / ``get_inline_keyboard_button`` /
``get_keyboard_button`` (tdlib/telegram-bot-api), with the server's error texts:

* not JSON: "can't parse reply keyboard markup JSON object"; not an object: "object expected
  as reply markup";
* ``inline_keyboard`` / ``keyboard`` not an array: ``field "inline_keyboard" of the
  InlineKeyboardMarkup must be an Array``; a row not an array: ``... must be an Array of
  Arrays``;
* a bad inline button: "can't parse inline keyboard button: <detail>", e.g. a button with
  no action is "Text buttons are unallowed in the inline keyboard", a missing text is
  ``Can't find field "text"``; reply-keyboard buttons likewise with "can't parse keyboard
  button: ...";
* more than 100 buttons: "reply markup is too long" (REPLY_MARKUP_TOO_LONG);
* ``callback_data`` longer than 64 bytes passes parsing and is refused by Telegram's servers
  afterwards as "BUTTON_DATA_INVALID" (https://core.telegram.org/bots/api#inlinekeyboardbutton:
  "Data to be sent in a callback query to the bot when the button is pressed, 1-64 bytes"),
  so :attr:`Markup.bad_callback_data` records it and the caller raises it after the chat
  checks, in Telegram's order.  An empty ``callback_data`` counts as absent, as on the server.

The first non-empty of ``keyboard``, ``inline_keyboard``, ``remove_keyboard``, ``force_reply``
wins, exactly as in the server.  Only inline keyboards appear in returned Message objects
("reply_markup: Inline keyboard attached to the message"); reply keyboards are kept for the
transcript.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sandbox.errors import ApiError, bad_request

MAX_BUTTONS = 100
INLINE_BUTTON = "can't parse inline keyboard button"
KEYBOARD_BUTTON = "can't parse keyboard button"
MAX_CALLBACK_DATA = 64

_INLINE_ACTIONS = (
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "copy_text",
)


@dataclass(frozen=True, slots=True)
class Markup:
    """A parsed reply markup.

    ``data`` is the normalised object as the Bot API echoes it (and the transcript shows it).
    """

    kind: Literal["inline", "keyboard", "remove", "force_reply"]
    data: dict[str, Any]
    bad_callback_data: bool = False

    @property
    def inline_rows(self) -> list[list[dict[str, Any]]]:
        rows: list[list[dict[str, Any]]] = self.data.get("inline_keyboard", [])
        return rows


def _string_field(button: dict[str, Any], name: str, required: bool) -> str:
    value = button.get(name)
    if value is None:
        if required:
            raise ValueError(f'Can\'t find field "{name}"')
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f'Field "{name}" must be of type String')
    return str(value)


def _inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise ValueError("InlineKeyboardButton must be an Object")
    text = _string_field(button, "text", True)
    url = _string_field(button, "url", False)
    if url:
        return {"text": text, "url": url}
    data = _string_field(button, "callback_data", False)
    if data:
        return {"text": text, "callback_data": data}
    if "callback_game" in button:
        return {"text": text, "callback_game": {}}
    if "pay" in button:
        return {"text": text, "pay": True}
    for action in _INLINE_ACTIONS:
        if action in button:
            return {"text": text, action: button[action]}
    raise ValueError("Text buttons are unallowed in the inline keyboard")


def _keyboard_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        return {"text": button}
    if not isinstance(button, dict):
        raise ValueError("KeyboardButton must be a String or an Object")
    text = _string_field(button, "text", True)
    return {**button, "text": text}


def _rows(
    value: Any, field: str, owner: str, parse: Callable[[Any], dict[str, Any]], prefix: str
) -> list[list[dict[str, Any]]]:
    """Rows of buttons; a bad button is refused as "<prefix>: <detail>"."""
    if not isinstance(value, list):
        raise bad_request(f'field "{field}" of the {owner} must be an Array')
    rows: list[list[dict[str, Any]]] = []
    for row in value:
        if not isinstance(row, list):
            raise bad_request(f'field "{field}" of the {owner} must be an Array of Arrays')
        parsed: list[dict[str, Any]] = []
        for button in row:
            try:
                parsed.append(parse(button))
            except ValueError as error:
                raise bad_request(f"{prefix}: {error}") from None
        rows.append(parsed)
    return rows


def _bool_field(value: Any, field: str, owner: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f'field "{field}" of the {owner} must be of the type Boolean')
    return value


def parse_reply_markup(raw: Any) -> Markup | None:
    """Parse the ``reply_markup`` parameter (JSON text or object); ``None`` when absent."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(raw, dict):
        raise bad_request("object expected as reply markup")
    keyboard: list[list[dict[str, Any]]] = []
    inline: list[list[dict[str, Any]]] = []
    options: dict[str, Any] = {}
    remove = force_reply = False
    for key, value in raw.items():
        if key == "keyboard":
            keyboard = _rows(
                value, "keyboard", "ReplyKeyboardMarkup", _keyboard_button, KEYBOARD_BUTTON
            )
        elif key == "inline_keyboard":
            inline = _rows(
                value, "inline_keyboard", "InlineKeyboardMarkup", _inline_button, INLINE_BUTTON
            )
        elif key in ("resize_keyboard", "one_time_keyboard", "is_persistent"):
            options[key] = _bool_field(value, key, "ReplyKeyboardMarkup")
        elif key in ("remove_keyboard", "hide_keyboard"):
            remove = _bool_field(value, "remove_keyboard", "ReplyKeyboardRemove")
        elif key == "selective":
            options[key] = _bool_field(value, key, "reply markup")
        elif key in ("force_reply", "force_reply_keyboard"):
            force_reply = _bool_field(value, "force_reply", "reply markup")
        elif key == "input_field_placeholder" and isinstance(value, str):
            options[key] = value
    if keyboard:
        _check_size(keyboard)
        return Markup("keyboard", {"keyboard": keyboard, **options})
    if inline:
        _check_size(inline)
        too_long = any(
            len(button.get("callback_data", "").encode("utf-8")) > MAX_CALLBACK_DATA
            for row in inline
            for button in row
        )
        return Markup("inline", {"inline_keyboard": inline}, too_long)
    if remove:
        extra = {"selective": options["selective"]} if "selective" in options else {}
        return Markup("remove", {"remove_keyboard": True, **extra})
    if force_reply:
        kept: dict[str, Any] = {
            k: options[k] for k in ("selective", "input_field_placeholder") if k in options
        }
        return Markup("force_reply", {"force_reply": True, **kept})
    return None


def _check_size(rows: list[list[dict[str, Any]]]) -> None:
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")


def button_data_error(markup: Markup | None) -> ApiError | None:
    """The server-side BUTTON_DATA_INVALID refusal, if the markup deserves it."""
    if markup is not None and markup.bad_callback_data:
        return bad_request("BUTTON_DATA_INVALID")
    return None

"""Message text and caption rules, applied in the order Telegram applies them.

1. Bot API level (before the chat is even looked up): an empty ``text`` is
   "message text is empty"; ``parse_mode`` must be HTML, MarkdownV2 or Markdown
   ("unsupported parse_mode"); HTML is parsed by :mod:`sandbox.html_entities` and a failure
   is "can't parse entities: <tdlib detail>"; without parse_mode, an ``entities`` array is
   taken as given.  The sandbox implements HTML only and answers MarkdownV2/Markdown with a
   400 that says so, rather than storing wrong text silently.
2. tdlib level (``fix_formatted_text``, after the chat is resolved): trailing spaces and
   newlines are cut, leading ones too up to the first entity; a text that is empty then is
   "text must be non-empty"; a text longer than 4096 characters is "message is too long"
   (captions: 1024, "message caption is too long").  Like tdlib
   (``utf8_length(text) > message_text_length_max``), length is counted in Unicode
   characters after entity parsing, not in UTF-16 units: 4096 emoji are accepted.
   https://core.telegram.org/bots/api#sendmessage: "Text of the message to be sent,
   1-4096 characters after entities parsing".

Entity offsets and lengths are UTF-16 code units throughout.  Messages a person sends get
``bot_command`` entities found the way tdlib finds them (``match_bot_commands``); the sandbox
does not auto-detect other entity kinds (urls, mentions, hashtags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.errors import bad_request
from sandbox.html_entities import EntityParseError, parse_html

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_BOT_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every MessageEntity offset."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True, slots=True)
class TextRule:
    """Which field is checked and how Telegram words its failures."""

    limit: int
    empty: str | None  # detail for an empty raw value; None when empty is allowed
    too_long: str
    allow_empty: bool


MESSAGE_TEXT = TextRule(TEXT_LIMIT, "message text is empty", "message is too long", False)
CAPTION = TextRule(CAPTION_LIMIT, None, "message caption is too long", True)


def parse_text(
    raw: str, parse_mode: str, entities: Any, rule: TextRule
) -> tuple[str, list[dict[str, Any]]]:
    """Step 1: Bot API checks and parse_mode; returns (text, entities) before trimming."""
    if not raw:
        if rule.empty is not None:
            raise bad_request(rule.empty)
        return "", []
    if not raw.isascii():
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request("strings must be encoded in UTF-8") from None
    mode = parse_mode.strip().lower()
    if mode == "html":
        try:
            return parse_html(raw)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    if mode in ("markdownv2", "markdown"):
        raise bad_request("the sandbox implements parse_mode HTML only, not " + parse_mode)
    if mode:
        raise bad_request("unsupported parse_mode")
    return raw, _given_entities(raw, entities)


def _given_entities(text: str, entities: Any) -> list[dict[str, Any]]:
    """The explicit ``entities`` parameter, checked against the text like tdlib."""
    if entities is None:
        return []
    if not isinstance(entities, list):
        raise bad_request("expected an Array of MessageEntity")
    size = utf16_len(text)
    checked: list[dict[str, Any]] = []
    for entity in entities:
        if (
            not isinstance(entity, dict)
            or not isinstance(entity.get("type"), str)
            or not isinstance(entity.get("offset"), int)
            or not isinstance(entity.get("length"), int)
        ):
            raise bad_request("can't parse MessageEntity: type, offset and length are required")
        offset, length = entity["offset"], entity["length"]
        if offset > size:
            raise bad_request(f"entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + length > size:
            raise bad_request(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text "
                f"at UTF-16 offset {offset + length}"
            )
        if length > 0:
            checked.append(entity)
    checked.sort(key=lambda e: (e["offset"], -e["length"]))
    return checked


def finalize_text(
    text: str, entities: list[dict[str, Any]], rule: TextRule
) -> tuple[str, list[dict[str, Any]]]:
    """Step 2: tdlib's trimming and limits; returns the text Telegram stores."""
    trimmed = text.rstrip(" \n")
    if not trimmed:
        if rule.allow_empty:
            return "", []
        raise bad_request("text must be non-empty")
    if len(trimmed) != len(text) and entities:
        end = utf16_len(trimmed)
        entities = [
            e if e["offset"] + e["length"] <= end else {**e, "length": end - e["offset"]}
            for e in entities
            if e["offset"] < end
        ]
    lead = len(trimmed) - len(trimmed.lstrip(" \n"))
    if entities:
        lead = min(lead, entities[0]["offset"])
    if lead:
        trimmed = trimmed[lead:]
        entities = [{**e, "offset": e["offset"] - lead} for e in entities]
    if len(trimmed) > rule.limit:
        raise bad_request(rule.too_long)
    return trimmed, entities


def bot_command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities in a text a person sent, found as tdlib finds them."""
    if "/" not in text:
        return []
    found: list[dict[str, Any]] = []
    for match in _BOT_COMMAND.finditer(text):
        start, end = match.span()
        found.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[:start]),
                "length": utf16_len(text[start:end]),
            }
        )
    return found

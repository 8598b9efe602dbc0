"""parse_mode HTML, parsed the way Telegram parses it.

A port of tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp), the function the Bot API
server calls for ``parse_mode=HTML``.  It walks the UTF-8 bytes, so every error names the
same byte offset Telegram names, and it produces the plain text Telegram stores plus
MessageEntity dicts whose offsets and lengths are in UTF-16 code units
(https://core.telegram.org/bots/api#messageentity: "Offset in UTF-16 code units to the start
of the entity").

Supported tags (https://core.telegram.org/bots/api#html-style): ``b strong i em u ins s strike
del span class="tg-spoiler" tg-spoiler a href code pre blockquote (expandable) tg-emoji``.

Rules carried over from tdlib, including its exact error texts (the Bot API server prefixes
them with "Bad Request: can't parse entities: "):

* an unknown tag: ``Unsupported start tag "div" at byte offset 0``; a bare ``<`` that is not
  a tag is an unsupported start tag with an empty or odd name;
* a tag never closed: ``Can't find end tag corresponding to start tag "b"``;
* ``</i>`` closing ``<b>``: ``Unmatched end tag at byte offset N, expected "</b>", found
  "</i>"``; an end tag with nothing open: ``Unexpected end tag at byte offset N``;
* ``<span>`` without ``class="tg-spoiler"``: ``Tag "span" must have class "tg-spoiler" at
  byte offset N``;
* attribute syntax errors (``Empty attribute name ...``, ``Unclosed start tag ...``,
  ``Unexpected end of name token ...``);
* only ``&lt; &gt; &amp; &quot;`` and numeric references are decoded; any other ``&name;`` and
  a lone ``&`` stay in the text literally (Telegram does not reject them);
* a numeric reference to half a surrogate pair is rejected with tdlib's text.

``<a href>`` links are normalised like tdlib (``telegram.org`` becomes
``http://telegram.org/``); a link tdlib would reject is silently dropped.  ``tg://user?id=``
links are kept as ``text_link`` (Telegram would resolve them to ``text_mention``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

_ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TYPES = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}
# td::is_space: NUL counts as a space, which is what stops every scan at the end of input.
_SPACES = frozenset(b" \t\r\n\x00\x0b")
_LT, _GT, _AMP, _SLASH, _EQ = 0x3C, 0x3E, 0x26, 0x2F, 0x3D
_QUOTES = (0x22, 0x27)
_NAME_STOP = frozenset(b" \t\r\n\x00\x0b=>/\"'")
_LINK_SCHEMES = frozenset({"http", "https", "tg", "ton", "tonsite"})
_SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


class EntityParseError(ValueError):
    """The HTML was rejected; ``str(error)`` is tdlib's message."""


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """Decode the HTML character reference at ``data[pos] == '&'``.

    Returns (code point, position after it) or (0, pos) when it is not one Telegram decodes.
    """
    n = len(data)
    end = pos + 1
    code = 0
    if end < n and data[end] == 0x23:  # '#'
        end += 1
        if end < n and data[end] == 0x78:  # 'x'
            end += 1
            while end < n and chr(data[end]) in "0123456789abcdefABCDEF":
                code = code * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while end < n and 0x30 <= data[end] <= 0x39:
                code = code * 10 + data[end] - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while end < n and chr(data[end]).isascii() and chr(data[end]).isalpha():
            end += 1
        code = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(data[pos + 1 : end], 0)
        if code == 0:
            return 0, pos
    if end < n and data[end] == 0x3B:  # ';'
        end += 1
    return code, end


def _checked_link(url: str) -> str:
    """tdlib's link normalisation, reduced to what the sandbox needs; "" when invalid."""
    if not url or any(ch.isspace() for ch in url):
        return ""
    if "://" not in url and not url.lower().startswith(("tg:", "ton:", "mailto:")):
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in _LINK_SCHEMES:
        return ""
    if scheme in ("http", "https"):
        if not parts.hostname:
            return ""
        return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, parts.fragment))
    return url


def _sort_key(entity: dict[str, Any]) -> tuple[int, int]:
    return entity["offset"], -entity["length"]


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, entities); raises :class:`EntityParseError`."""
    data = html.encode("utf-8", "surrogatepass")
    n = len(data)

    def at(index: int) -> int:
        return data[index] if index < n else 0

    out = bytearray()
    utf16 = 0
    recheck_utf8 = False
    entities: list[dict[str, Any]] = []
    # (tag, argument, entity utf16 offset, start position in ``out``)
    stack: list[tuple[str, str, int, int]] = []
    i = 0
    while i < n:
        c = data[i]
        if c == _AMP:
            code, end = _decode_entity(data, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                if 0xD800 <= code <= 0xDFFF:
                    recheck_utf8 = True
                out += chr(code).encode("utf-8", "surrogatepass")
                i = end
                continue
        if c != _LT:
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != _SLASH:
            while at(i) not in _SPACES and at(i) != _GT:
                i += 1
            if at(i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _ALLOWED_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != _GT:
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) == _GT:
                    break
                name_begin = i
                while at(i) not in _NAME_STOP:
                    i += 1
                name = data[name_begin:i]
                if not name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) != _EQ:
                    if at(i) == 0:
                        raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    if tag == "blockquote" and name == b"expandable":
                        argument = "1"
                    continue
                i += 1
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) == 0:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in _QUOTES:
                    token_begin = i
                    while chr(at(i)).isascii() and (chr(at(i)).isalnum() or at(i) in b".-"):
                        i += 1
                    value = data[token_begin:i].decode("ascii").lower()
                    if at(i) not in _SPACES and at(i) != _GT:
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    raw = bytearray()
                    while at(i) != quote and at(i) != 0:
                        if at(i) == _AMP:
                            code, end = _decode_entity(data, i)
                            if code:
                                raw += chr(code).encode("utf-8", "surrogatepass")
                                i = end
                                continue
                        raw.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if at(i) == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and name == b"href":
                    argument = value
                elif tag == "code" and name == b"class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and name == b"class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and name == b"emoji-id":
                    argument = value
                elif tag == "blockquote" and name == b"expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            stack.append((tag, argument, utf16, len(out)))
            i += 1
            continue

        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while at(i) not in _SPACES and at(i) != _GT:
            i += 1
        end_tag = data[begin + 2 : i].decode("utf-8", "replace").lower()
        while at(i) != 0 and at(i) in _SPACES:
            i += 1
        if at(i) != _GT:
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, offset, out_begin = stack.pop()
        if end_tag and end_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        i += 1
        if utf16 > offset:
            _close_entity(entities, tag, argument, offset, utf16 - offset, out[out_begin:])

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    text = out.decode("utf-8", "surrogatepass")
    if recheck_utf8:
        try:
            text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeDecodeError:
            raise EntityParseError(_SURROGATE_ERROR) from None
    entities.sort(key=_sort_key)
    return text, entities


def _close_entity(
    entities: list[dict[str, Any]],
    tag: str,
    argument: str,
    offset: int,
    length: int,
    inner: bytearray,
) -> None:
    """Append the entity a closed tag produces, merging pre+code like tdlib."""
    simple = _SIMPLE_TYPES.get(tag)
    if simple is not None:
        entities.append({"type": simple, "offset": offset, "length": length})
        return
    if tag == "span":
        entities.append({"type": "spoiler", "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": argument,
            }
        )
    elif tag == "a":
        url = _checked_link(argument or inner.decode("utf-8", "replace"))
        if url:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and argument
        ):
            last["language"] = argument
        else:
            code: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if argument:
                code["language"] = argument
            entities.append(code)
    else:  # blockquote
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})

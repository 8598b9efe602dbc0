"""parse_mode HTML parser against tdlib's own test vectors (test/message_entities.cpp).

https://core.telegram.org/bots/api#html-style: "All numerical HTML entities are supported.
The API currently supports only the following named HTML entities: &lt;, &gt;, &amp; and
&quot;."  Errors are tdlib's ``parse_html`` messages, byte offsets included.
"""

from __future__ import annotations

import pytest

from sandbox.html_entities import EntityParseError, parse_html

SURROGATE = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("&#57311;", SURROGATE),
        ("&#xDFDF", SURROGATE),
        ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
        ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
        ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
        ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        (
            "🏟 🏟&lt;<i>a</em   >",
            'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        ),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_tdlib_error_vectors(html: str, error: str) -> None:
    """tdlib parse_html rejects these with exactly these messages."""
    with pytest.raises(EntityParseError) as caught:
        parse_html(html)
    assert str(caught.value) == error


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("", "", []),
        (
            "&ge;&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;",
            '&ge;<>&"&laquo;&raquo;&#12345678;',
            [],
        ),
        ("➡️ ➡️<i>➡️ ➡️</i>", "➡️ ➡️➡️ ➡️", [("italic", 5, 5)]),
        ("➡️ ➡️<strong>➡️ ➡️</strong>", "➡️ ➡️➡️ ➡️", [("bold", 5, 5)]),
        ("➡️ ➡️<ins>➡️ ➡️</ins>", "➡️ ➡️➡️ ➡️", [("underline", 5, 5)]),
        ("➡️ ➡️<del>➡️ ➡️</del>", "➡️ ➡️➡️ ➡️", [("strikethrough", 5, 5)]),
        ("➡️ ➡️<blockquote>➡️ ➡️</blockquote>", "➡️ ➡️➡️ ➡️", [("blockquote", 5, 5)]),
        ("🏟 🏟<i>🏟 &lt🏟</i>", "🏟 🏟🏟 <🏟", [("italic", 5, 6)]),
        (
            "🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>",
            "🏟 🏟🏟 ><🏟",
            [("italic", 5, 7), ("bold", 9, 3)],
        ),
        ("🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;'>a</>", "🏟 🏟<a", [("italic", 6, 1)]),
        ("🏟 🏟&lt;<i>a</    >", "🏟 🏟<a", [("italic", 6, 1)]),
        ("🏟 🏟&lt;<b></b>", "🏟 🏟<", []),
        ("<tg-spoiler>s</tg-spoiler>", "s", [("spoiler", 0, 1)]),
        ("<a>telegram.org </a>", "telegram.org ", []),
        (
            "<blockquote   expandable>a&lt;<pre  >b;</></>",
            "a<b;",
            [("expandable_blockquote", 0, 4), ("pre", 2, 2)],
        ),
        (
            '🏟 🏟&lt;<pre><code class="language-">🏟 🏟&lt;</code></>',
            "🏟 🏟<🏟 🏟<",
            [("pre", 6, 6), ("code", 6, 6)],
        ),
    ],
)
def test_tdlib_success_vectors(html: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    """tdlib parse_html turns these into exactly this text and these (UTF-16) entities."""
    parsed_text, parsed = parse_html(html)
    assert parsed_text == text
    assert sorted((e["type"], e["offset"], e["length"]) for e in parsed) == sorted(entities)


def test_links_and_languages() -> None:
    """<a href> is normalised like tdlib; <pre><code class="language-x"> is one pre entity
    with a language; <a> without href uses its text as the URL."""
    _, entities = parse_html(
        '<a href=telegram.org>t</a><pre><code class="language-fift">c</code></pre>'
    )
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 1, "url": "http://telegram.org/"},
        {"type": "pre", "offset": 1, "length": 1, "language": "fift"},
    ]
    _, entities = parse_html("<a>https://telegram.org/asdsa?asdasdwe#12e3we</a>")
    assert entities[0]["url"] == "https://telegram.org/asdsa?asdasdwe#12e3we"

"""One test per strictness rule: HTTP status and Telegram's exact description.

Descriptions are the ones the real Bot API server sends: they come from
tdlib/telegram-bot-api (``Client.cpp``, ``ClientManager.cpp``) and tdlib
(``MessageEntity.cpp``, ``MessagesManager.cpp``), prefixed as in
``Client::fail_query_with_error`` ("Bad Request: ", "Forbidden: ", ...).  Each docstring
quotes the documentation sentence the rule rests on.

One module over 400 lines: one short test per strictness rule (31), a catalogue read
top to bottom, like the rules it checks."""

from __future__ import annotations

import pytest
import telegram
from telegram.error import BadRequest, Forbidden, InvalidToken

from sandbox.client import AsyncSandboxClient
from sandbox.server import DEFAULT_TOKEN, SandboxServer

from .conftest import Api, started

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def inline(*buttons: tuple[str, str]) -> dict[str, object]:
    return {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in buttons]]}


# --- tokens and methods ----------------------------------------------------------------------


async def test_unknown_token_is_401_unauthorized(api: Api, server: SandboxServer) -> None:
    """https://core.telegram.org/bots/api#authorizing-your-bot: "Each bot is given a unique
    authentication token when it is created." A well-formed token the sandbox does not know
    answers 401 "Unauthorized"; python-telegram-bot raises InvalidToken."""
    api.token = "654321:not-a-token-of-this-sandbox"
    assert await api.error("getMe") == (401, "Unauthorized")
    stranger = telegram.Bot(api.token, base_url=server.api_base)
    with pytest.raises(InvalidToken):
        await stranger.get_me()


async def test_malformed_token_is_401_invalid_token(api: Api) -> None:
    """https://core.telegram.org/bots/api#authorizing-your-bot: the token "looks something
    like 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11". A token without the colon is refused by
    ClientManager::send with 401 "Unauthorized: invalid token specified"."""
    api.token = "no-colon-here"
    assert await api.error("getMe") == (401, "Unauthorized: invalid token specified")


async def test_unknown_method_is_404_not_found(api: Api) -> None:
    """https://core.telegram.org/bots/api#making-requests: requests go to
    https://api.telegram.org/bot<token>/METHOD_NAME; a method the server does not have answers
    404 "Not Found"."""
    assert await api.error("sendTelepathy", chat_id=1) == (404, "Not Found")


async def test_method_names_are_case_insensitive(api: Api) -> None:
    """https://core.telegram.org/bots/api#making-requests: "All methods in the Bot API are
    case-insensitive." """
    assert (await api.ok("GETME"))["id"] == 123456
    assert (await api.ok("getme"))["username"] == "execbot_sandbox_bot"


# --- message text ----------------------------------------------------------------------------


async def test_empty_text_is_refused(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#sendmessage: "text: Text of the message to be sent,
    1-4096 characters after entities parsing". Empty text: "Bad Request: message text is
    empty"."""
    chat = await started(people)
    assert await api.error("sendMessage", chat_id=chat, text="") == (
        400,
        "Bad Request: message text is empty",
    )


async def test_whitespace_text_is_refused(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#sendmessage: "1-4096 characters after entities
    parsing". tdlib trims spaces and newlines and then answers "Text must be non-empty"."""
    chat = await started(people)
    assert await api.error("sendMessage", chat_id=chat, text=" \n ") == (
        400,
        "Bad Request: text must be non-empty",
    )


async def test_text_over_4096_characters_is_too_long(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#sendmessage: "Text of the message to be sent,
    1-4096 characters after entities parsing". 4097 characters: "Bad Request: message is too
    long"; exactly 4096 is fine, and markup does not count (it is parsed away first)."""
    chat = await started(people)
    assert await api.error("sendMessage", chat_id=chat, text="x" * 4097) == (
        400,
        "Bad Request: message is too long",
    )
    assert (await api.ok("sendMessage", chat_id=chat, text="x" * 4096))["text"] == "x" * 4096
    html = "<b>" + "y" * 4096 + "</b>"
    sent = await api.ok("sendMessage", chat_id=chat, text=html, parse_mode="HTML")
    assert sent["entities"] == [{"type": "bold", "offset": 0, "length": 4096}]


async def test_length_counts_characters_not_utf16_units(
    api: Api, people: AsyncSandboxClient
) -> None:
    """https://core.telegram.org/bots/api#sendmessage: "1-4096 characters". tdlib checks
    ``utf8_length(text) > message_text_length_max`` (characters), so 4096 emoji (8192 UTF-16
    units) pass and 4097 do not."""
    chat = await started(people)
    assert (await api.ok("sendMessage", chat_id=chat, text="😀" * 4096))["text"] == "😀" * 4096
    assert await api.error("sendMessage", chat_id=chat, text="😀" * 4097) == (
        400,
        "Bad Request: message is too long",
    )


async def test_unsupported_parse_mode(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#formatting-options: "The Bot API supports basic
    formatting for messages" (MarkdownV2, HTML, Markdown). Any other mode: "Bad Request:
    unsupported parse_mode"."""
    chat = await started(people)
    assert await api.error("sendMessage", chat_id=chat, text="x", parse_mode="BBCode") == (
        400,
        "Bad Request: unsupported parse_mode",
    )


# --- keyboards -------------------------------------------------------------------------------


async def test_callback_data_over_64_bytes(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#inlinekeyboardbutton: "callback_data: Data to be
    sent in a callback query to the bot when the button is pressed, 1-64 bytes". 65 bytes
    (here 33 two-byte letters) is refused with "Bad Request: BUTTON_DATA_INVALID"."""
    chat = await started(people)
    too_long = "é" * 33
    assert await api.error(
        "sendMessage", chat_id=chat, text="t", reply_markup=inline(("a", too_long))
    ) == (400, "Bad Request: BUTTON_DATA_INVALID")
    exactly = "é" * 32
    sent = await api.ok("sendMessage", chat_id=chat, text="t", reply_markup=inline(("a", exactly)))
    assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == exactly


async def test_inline_button_without_action(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#inlinekeyboardbutton: "You must use exactly one of
    the optional fields." A button with only text: "Bad Request: can't parse inline keyboard
    button: Text buttons are unallowed in the inline keyboard"."""
    chat = await started(people)
    markup = {"inline_keyboard": [[{"text": "just text"}]]}
    assert await api.error("sendMessage", chat_id=chat, text="t", reply_markup=markup) == (
        400,
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard",
    )


async def test_inline_keyboard_shapes(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#inlinekeyboardmarkup: "inline_keyboard: Array of
    Array of InlineKeyboardButton". Not an array, rows not arrays, no text, and invalid JSON
    are refused with the server's texts."""
    chat = await started(people)
    cases = [
        (
            {"inline_keyboard": {"text": "a"}},
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array',
        ),
        (
            {"inline_keyboard": [{"text": "a", "callback_data": "b"}]},
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
            "must be an Array of Arrays",
        ),
        (
            {"inline_keyboard": [[{"callback_data": "b"}]]},
            "Bad Request: can't parse inline keyboard button: Can't find field \"text\"",
        ),
        ("[not json", "Bad Request: can't parse reply keyboard markup JSON object"),
        ([1, 2], "Bad Request: object expected as reply markup"),
    ]
    for markup, description in cases:
        assert await api.error("sendMessage", chat_id=chat, text="t", reply_markup=markup) == (
            400,
            description,
        ), markup


async def test_too_many_buttons(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#inlinekeyboardmarkup (keyboards are limited in
    size): more than 100 buttons is REPLY_MARKUP_TOO_LONG, worded "Bad Request: reply markup
    is too long" by the server."""
    chat = await started(people)
    rows = [[{"text": str(i), "callback_data": str(i)}] for i in range(101)]
    assert await api.error(
        "sendMessage", chat_id=chat, text="t", reply_markup={"inline_keyboard": rows}
    ) == (400, "Bad Request: reply markup is too long")


# --- edits and deletes -----------------------------------------------------------------------


async def test_edit_that_changes_nothing(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#editmessagetext: "Use this method to edit text and
    game messages." Same text, entities and keyboard: the MESSAGE_NOT_MODIFIED answer."""
    chat = await started(people)
    markup = inline(("Yes", "y"))
    sent = await api.ok(
        "sendMessage", chat_id=chat, text="<b>Hi</b>", parse_mode="HTML", reply_markup=markup
    )
    same = {"chat_id": chat, "message_id": sent["message_id"], "reply_markup": markup}
    assert await api.error("editMessageText", text="<b>Hi</b>", parse_mode="HTML", **same) == (
        400,
        NOT_MODIFIED,
    )
    assert await api.error(
        "editMessageReplyMarkup", chat_id=chat, message_id=sent["message_id"], reply_markup=markup
    ) == (400, NOT_MODIFIED)


async def test_edit_without_markup_removes_the_keyboard(
    api: Api, people: AsyncSandboxClient
) -> None:
    """https://core.telegram.org/bots/api#editmessagetext: "reply_markup: A JSON-serialized
    object for an inline keyboard." Leaving it out removes the keyboard, so the same text
    without it is a modification, not "message is not modified"."""
    chat = await started(people)
    sent = await api.ok("sendMessage", chat_id=chat, text="Hi", reply_markup=inline(("a", "b")))
    edited = await api.ok("editMessageText", chat_id=chat, message_id=sent["message_id"], text="Hi")
    assert "reply_markup" not in edited and "edit_date" in edited


async def test_edit_unknown_message(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#editmessagetext: "message_id: Identifier of the
    message to edit". Unknown id: "Bad Request: message to edit not found"."""
    chat = await started(people)
    assert await api.error("editMessageText", chat_id=chat, message_id=999, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )


async def test_edit_someone_elses_message(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#updating-messages: "Please note, that it is
    currently only possible to edit messages without reply_markup or with inline keyboards."
    and a bot edits its own messages; a person's message: "Bad Request: message can't be
    edited"."""
    chat = await started(people)
    mine = await people.send_text(chat, "written by Ann")
    assert await api.error(
        "editMessageText", chat_id=chat, message_id=mine["message"]["message_id"], text="x"
    ) == (400, "Bad Request: message can't be edited")


async def test_edit_with_reply_keyboard(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#editmessagetext: "reply_markup: A JSON-serialized
    object for an inline keyboard." A reply keyboard: "Bad Request: inline keyboard
    expected"."""
    chat = await started(people)
    sent = await api.ok("sendMessage", chat_id=chat, text="Hi")
    assert await api.error(
        "editMessageText",
        chat_id=chat,
        message_id=sent["message_id"],
        text="Ho",
        reply_markup={"keyboard": [["A"]]},
    ) == (400, "Bad Request: inline keyboard expected")


async def test_delete_unknown_message(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#deletemessage: "Use this method to delete a message
    [...] Returns True on success." Unknown or already deleted: "Bad Request: message to
    delete not found"."""
    chat = await started(people)
    sent = await api.ok("sendMessage", chat_id=chat, text="bye")
    assert await api.ok("deleteMessage", chat_id=chat, message_id=sent["message_id"]) is True
    for message_id in (sent["message_id"], 999):
        assert await api.error("deleteMessage", chat_id=chat, message_id=message_id) == (
            400,
            "Bad Request: message to delete not found",
        )


async def test_reply_to_missing_message(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#replyparameters: "allow_sending_without_reply: Pass
    True if the message should be sent even if the specified message to be replied to is not
    found". Without it: "Bad Request: message to be replied not found"."""
    chat = await started(people)
    assert await api.error(
        "sendMessage", chat_id=chat, text="x", reply_parameters={"message_id": 77}
    ) == (400, "Bad Request: message to be replied not found")
    sent = await api.ok(
        "sendMessage",
        chat_id=chat,
        text="x",
        reply_parameters={"message_id": 77, "allow_sending_without_reply": True},
    )
    assert "reply_to_message" not in sent


# --- callback queries ------------------------------------------------------------------------


async def test_answer_callback_query_twice(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#answercallbackquery: "Use this method to send
    answers to callback queries sent from inline keyboards." A query is answered once; the
    second answer and an id never issued get "Bad Request: query is too old and response
    timeout expired or query ID is invalid"."""
    chat = await started(people)
    sent = await api.ok("sendMessage", chat_id=chat, text="Q?", reply_markup=inline(("Yes", "y")))
    query_id = await people.tap(chat, sent["message_id"], label="Yes")
    assert await api.ok("answerCallbackQuery", callback_query_id=query_id) is True
    for bad_id in (query_id, "12345"):
        assert await api.error("answerCallbackQuery", callback_query_id=bad_id) == (
            400,
            QUERY_INVALID,
        )


async def test_unanswered_callback_queries_are_counted(
    api: Api, people: AsyncSandboxClient
) -> None:
    """https://core.telegram.org/bots/api#answercallbackquery: "After the user presses a
    callback button, Telegram clients will display a progress bar until you call
    answerCallbackQuery. It is, therefore, necessary to react by calling answerCallbackQuery
    even if no notification to the user is needed." """
    chat = await started(people)
    sent = await api.ok(
        "sendMessage", chat_id=chat, text="Q?", reply_markup=inline(("A", "a"), ("B", "b"))
    )
    first = await people.tap(chat, sent["message_id"], data="a")
    await people.tap(chat, sent["message_id"], data="b")
    await api.ok("answerCallbackQuery", callback_query_id=first, text="Noted")
    counters = await people.counters()
    assert (
        counters["callback_queries"],
        counters["answered_callback_queries"],
        counters["unanswered_callback_queries"],
    ) == (2, 1, 1)


# --- who may be written to -------------------------------------------------------------------


async def test_person_who_never_pressed_start(
    api: Api, people: AsyncSandboxClient, bot: telegram.Bot
) -> None:
    """https://core.telegram.org/bots/features#what-features-do-bots-have (bots FAQ): "Bots
    can't initiate conversations with users. A user must either add them to a group or send
    them a message first." -> 403 "Forbidden: bot can't initiate conversation with a user"."""
    person = await people.create_person("Quiet")
    assert await api.error("sendMessage", chat_id=person["id"], text="hello?") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    with pytest.raises(Forbidden):
        await bot.send_message(person["id"], "hello?")


async def test_person_who_blocked_the_bot(
    api: Api, people: AsyncSandboxClient, bot: telegram.Bot
) -> None:
    """https://core.telegram.org/bots/api#update: "my_chat_member: [...] For private chats,
    this update is received only when the bot is blocked or unblocked by the user." After
    blocking: 403 "Forbidden: bot was blocked by the user"; after unblocking it works."""
    chat = await started(people)
    await people.block(chat)
    assert await api.error("sendMessage", chat_id=chat, text="still there?") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    with pytest.raises(Forbidden):
        await bot.send_chat_action(chat, "typing")
    await people.unblock(chat)
    assert (await api.ok("sendMessage", chat_id=chat, text="welcome back"))["chat"]["id"] == chat


async def test_unknown_chat(api: Api, bot: telegram.Bot) -> None:
    """https://core.telegram.org/bots/api#sendmessage: "chat_id: Unique identifier for the
    target chat". An id nobody created: "Bad Request: chat not found"; no id at all: "Bad
    Request: chat_id is empty"."""
    assert await api.error("sendMessage", chat_id=424242, text="x") == (
        400,
        "Bad Request: chat not found",
    )
    assert await api.error("sendMessage", text="x") == (400, "Bad Request: chat_id is empty")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(424242)


# --- HTML ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href", 'Unclosed start tag "a" at byte offset 0'),
    ],
)
async def test_malformed_html(api: Api, people: AsyncSandboxClient, html: str, detail: str) -> None:
    """https://core.telegram.org/bots/api#html-style: "All <, > and & symbols that are not a
    part of a tag or an HTML entity must be replaced with the corresponding HTML entities"
    and only the listed tags are supported. Refusals carry tdlib's parse_html detail after
    "Bad Request: can't parse entities: "."""
    chat = await started(people)
    assert await api.error("sendMessage", chat_id=chat, text=html, parse_mode="HTML") == (
        400,
        f"Bad Request: can't parse entities: {detail}",
    )


async def test_html_becomes_plain_text_and_entities(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#messageentity: "offset: Offset in UTF-16 code units
    to the start of the entity". The stored text is plain; entities carry the markup; unknown
    named references such as &foo; stay literally, as Telegram keeps them."""
    chat = await started(people)
    html = (
        '😀 <b>bold <i>both</i></b> &amp; <a href="https://example.org">link</a> '
        '<span class="tg-spoiler">s</span> <pre><code class="language-py">x=1</code></pre> '
        "&foo; <code>c</code>"
    )
    sent = await api.ok("sendMessage", chat_id=chat, text=html, parse_mode="HTML")
    assert sent["text"] == "😀 bold both & link s x=1 &foo; c"
    assert sent["entities"] == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 15, "length": 4, "url": "https://example.org/"},
        {"type": "spoiler", "offset": 20, "length": 1},
        {"type": "pre", "offset": 22, "length": 3, "language": "py"},
        {"type": "code", "offset": 32, "length": 1},
    ]


# --- files, actions, commands ----------------------------------------------------------------


async def test_photo_rules(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#sendphoto: "photo: Photo to send. Pass a file_id as
    String to send a photo that exists on the Telegram servers (recommended), pass an HTTP
    URL as a String for Telegram to get a photo from the Internet, or upload a new photo".
    Missing: "Bad Request: there is no photo in the request"; unknown id: "Bad Request: wrong
    file identifier/HTTP URL specified"; bytes that are not an image: "Bad Request:
    IMAGE_PROCESS_FAILED"."""
    chat = await started(people)
    assert await api.error("sendPhoto", chat_id=chat) == (
        400,
        "Bad Request: there is no photo in the request",
    )
    assert await api.error("sendPhoto", chat_id=chat, photo="AgACAgIAAxk-unknown") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    response = await api.client.post(
        f"/bot{DEFAULT_TOKEN}/sendPhoto",
        data={"chat_id": str(chat)},
        files={"photo": ("x.png", b"not an image", "image/png")},
    )
    assert (response.status_code, response.json()["description"]) == (
        400,
        "Bad Request: IMAGE_PROCESS_FAILED",
    )


async def test_get_file_unknown(api: Api) -> None:
    """https://core.telegram.org/bots/api#getfile: "Use this method to get basic information
    about a file and prepare it for downloading." Unknown id: "Bad Request: invalid
    file_id"."""
    assert await api.error("getFile", file_id="nope") == (400, "Bad Request: invalid file_id")


async def test_chat_action_must_be_known(api: Api, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#sendchataction: "action: Type of action to
    broadcast. Choose one, depending on what the user is about to receive: typing for text
    messages, upload_photo for photos, [...]". Anything else: "Bad Request: wrong parameter
    action in request"."""
    chat = await started(people)
    assert await api.error("sendChatAction", chat_id=chat, action="dancing") == (
        400,
        "Bad Request: wrong parameter action in request",
    )


async def test_bot_command_rules(api: Api) -> None:
    """https://core.telegram.org/bots/api#botcommand: "command: Text of the command; 1-32
    characters. Can contain only lowercase English letters, digits and underscores." and
    "description: Description of the command; 1-256 characters." """
    cases: list[tuple[object, str]] = [
        ([{"command": "Start", "description": "go"}], "BOT_COMMAND_INVALID"),
        ([{"command": "x" * 33, "description": "go"}], "command length must not exceed 32"),
        ([{"command": "go", "description": " "}], "command description must be non-empty"),
        ({"command": "go"}, "expected an Array of BotCommand"),
    ]
    for commands, detail in cases:
        description = "Bad Request: " + detail
        assert await api.error("setMyCommands", commands=commands) == (400, description)

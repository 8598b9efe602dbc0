"""Every supported method, round-tripped with a stock python-telegram-bot 22 client.

No execbot code: ``telegram.Bot(token, base_url=server.api_base,
base_file_url=server.file_base)`` and a plain ``telegram.ext.Application``.  Each test quotes
the Bot API documentation for the behaviour it checks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import telegram
from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import Conflict
from telegram.ext import Application, CommandHandler, ContextTypes

from sandbox.client import AsyncSandboxClient
from sandbox.server import DEFAULT_TOKEN, SandboxServer

from .conftest import PNG, started


async def test_get_me(bot: telegram.Bot) -> None:
    """https://core.telegram.org/bots/api#getme: "A simple method for testing your bot's
    authentication token. Requires no parameters. Returns basic information about the bot in
    form of a User object." The id is the token's number."""
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "execbot_sandbox_bot")


async def test_set_and_get_my_commands(bot: telegram.Bot) -> None:
    """https://core.telegram.org/bots/api#setmycommands: "Use this method to change the list
    of the bot's commands." and #getmycommands: "Returns the list of commands [...] for the
    given scope and user language." """
    commands = [BotCommand("start", "Begin"), BotCommand("/done", "  Mark a duty done ")]
    assert await bot.set_my_commands(commands) is True
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [
        ("start", "Begin"),
        ("done", "Mark a duty done"),
    ]
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("help", "Help")], scope=scope, language_code="de")
    assert [c.command for c in await bot.get_my_commands(scope=scope, language_code="de")] == [
        "help"
    ]
    assert await bot.get_my_commands(scope=scope) == ()


async def test_commands_per_chat_and_deleted(bot: telegram.Bot) -> None:
    """#botcommandscopechat: a list for one chat, kept apart from the language lists; and
    #deletemycommands: "Use this method to delete the list of the bot's commands for the given
    scope and user language." """
    chat = BotCommandScopeChat(4242)
    await bot.set_my_commands([BotCommand("team", "Team")], scope=chat)
    await bot.set_my_commands([BotCommand("today", "Heute")], language_code="de")
    assert [c.command for c in await bot.get_my_commands(scope=chat)] == ["team"]
    assert await bot.get_my_commands(scope=BotCommandScopeChat(4243)) == ()
    assert await bot.delete_my_commands(scope=chat) is True
    assert await bot.get_my_commands(scope=chat) == ()
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["today"]
    assert await bot.delete_my_commands(scope=chat) is True  # nothing left: still True


async def test_send_edit_delete(bot: telegram.Bot, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#sendmessage ("On success, the sent Message is
    returned."), #editmessagetext, #editmessagereplymarkup ("On success, if the edited
    message is not an inline message, the edited Message is returned"), #deletemessage
    ("Returns True on success.")."""
    chat = await started(people)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done:1")]])
    sent = await bot.send_message(
        chat, "<b>Clean</b> the press", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    assert sent.text == "Clean the press" and sent.entities[0].type == "bold"
    assert sent.reply_markup == keyboard and sent.from_user is not None
    assert sent.from_user.username == "execbot_sandbox_bot"
    edited = await bot.edit_message_text(
        "Press cleaned", chat_id=chat, message_id=sent.message_id, reply_markup=keyboard
    )
    assert isinstance(edited, telegram.Message) and edited.edit_date is not None
    bare = await bot.edit_message_reply_markup(chat_id=chat, message_id=sent.message_id)
    assert isinstance(bare, telegram.Message) and bare.reply_markup is None
    reply = await bot.send_message(
        chat,
        "Which shift?",
        reply_markup=ReplyKeyboardMarkup([[KeyboardButton("Early"), "Late"]]),
        reply_parameters=ReplyParameters(sent.message_id),
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == sent.message_id
    forced = await bot.send_message(chat, "Why?", reply_markup=ForceReply())
    removed = await bot.send_message(chat, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert await bot.delete_message(chat, forced.message_id) is True
    entries = await people.transcript(chat)
    by_id = {e["message_id"]: e for e in entries}
    assert by_id[sent.message_id]["edit_count"] == 2
    assert by_id[sent.message_id]["buttons"] == []
    assert by_id[reply.message_id]["reply_markup"]["keyboard"][0][1] == {"text": "Late"}
    assert by_id[forced.message_id]["deleted"] is True
    assert by_id[removed.message_id]["reply_markup"] == {"remove_keyboard": True}


async def test_photo_upload_get_file_download(
    bot: telegram.Bot, people: AsyncSandboxClient
) -> None:
    """https://core.telegram.org/bots/api#sendphoto, #photosize and #getfile: "The file can
    then be downloaded via the link https://api.telegram.org/file/bot<token>/<file_path>"."""
    chat = await started(people)
    sent = await bot.send_photo(chat, PNG, caption="<i>Gauge</i>", parse_mode=ParseMode.HTML)
    size = sent.photo[-1]
    assert (size.width, size.height, size.file_size) == (3, 2, len(PNG))
    assert sent.caption == "Gauge" and sent.caption_entities[0].type == "italic"
    file = await bot.get_file(size.file_id)
    assert file.file_path is not None and file.file_path.startswith(bot.base_file_url)
    assert bytes(await file.download_as_bytearray()) == PNG
    again = await bot.send_photo(chat, size.file_id)
    assert again.photo[-1].file_id == size.file_id


async def test_document_upload_and_resend(bot: telegram.Bot, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#senddocument: "Use this method to send general
    files. On success, the sent Message is returned." """
    chat = await started(people)
    sent = await bot.send_document(chat, b"duty,owner\npress,Ann\n", filename="duties.csv")
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("duties.csv", "text/csv")
    again = await bot.send_document(chat, sent.document.file_id, caption="again")
    assert again.document is not None and again.document.file_id == sent.document.file_id
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"duty,owner\npress,Ann\n"


async def test_chat_action_and_get_chat(bot: telegram.Bot, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#sendchataction: "Returns True on success." and
    #getchat: "Use this method to get up-to-date information about the chat. Returns a
    ChatFullInfo object on success." """
    chat = await started(people, "Ann", last_name="Lee", username="ann_lee")
    assert await bot.send_chat_action(chat, ChatAction.TYPING) is True
    info = await bot.get_chat(chat)
    assert (info.id, info.type, info.first_name, info.last_name, info.username) == (
        chat,
        "private",
        "Ann",
        "Lee",
        "ann_lee",
    )


async def test_callback_query_round_trip(bot: telegram.Bot, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#callbackquery: "This object represents an incoming
    callback query from a callback button in an inline keyboard." and #answercallbackquery:
    "The answer will be displayed to the user as a notification at the top of the chat
    screen or as an alert." """
    chat = await started(people)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes", callback_data="y"),
                InlineKeyboardButton("No", callback_data="n"),
            ]
        ]
    )
    question = await bot.send_message(chat, "Done?", reply_markup=keyboard)
    updates = await bot.get_updates()
    tapped = await people.tap(chat, question.message_id, label="No")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1)
    query = updates[-1].callback_query
    assert query is not None and (query.id, query.data) == (tapped, "n")
    assert query.message is not None and query.message.message_id == question.message_id
    assert await query.answer("Okay, later", show_alert=True) is True
    entries = await people.transcript(chat)
    assert entries[-1] == {
        "kind": "callback_answer",
        "callback_query_id": tapped,
        "message_id": question.message_id,
        "person_id": chat,
        "date": entries[-1]["date"],
        "text": "Okay, later",
        "show_alert": True,
        "url": None,
    }


async def test_get_updates_offset_confirmation(
    bot: telegram.Bot, people: AsyncSandboxClient
) -> None:
    """https://core.telegram.org/bots/api#getupdates: "An update is considered confirmed as
    soon as getUpdates is called with an offset higher than its update_id. The negative
    offset can be specified to retrieve updates starting from -offset update from the end of
    the updates queue. All previous updates will be forgotten." """
    chat = await started(people)
    for text in ("one", "two", "three"):
        await people.send_text(chat, text)
    everything = await bot.get_updates()
    assert [u.message.text for u in everything if u.message] == ["/start", "one", "two", "three"]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == [1, 2]
    rest = await bot.get_updates(offset=everything[1].update_id + 1)
    assert [u.update_id for u in rest] == [3, 4]
    assert [u.update_id for u in await bot.get_updates()] == [3, 4]  # 1-2 are gone for good
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [4]
    assert [u.update_id for u in await bot.get_updates()] == [4]
    assert await bot.get_updates(offset=5) == ()


async def test_long_polling_waits_and_returns_early(
    bot: telegram.Bot, people: AsyncSandboxClient
) -> None:
    """https://core.telegram.org/bots/api#getupdates: "timeout: Timeout in seconds for long
    polling." The call waits while nothing is pending and answers as soon as an update
    arrives."""
    chat = await started(people)
    offset = (await bot.get_updates())[-1].update_id + 1
    began = time.monotonic()
    assert await bot.get_updates(offset=offset, timeout=1) == ()
    assert time.monotonic() - began >= 0.95
    poll = asyncio.create_task(bot.get_updates(offset=offset, timeout=10))
    await asyncio.sleep(0.3)
    began = time.monotonic()
    await people.send_text(chat, "wake up")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - began < 1.0
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_second_long_poll_terminates_the_first(
    server: SandboxServer, bot: telegram.Bot
) -> None:
    """The real server answers a long poll that another getUpdates replaces with 409
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance
    is running" (https://core.telegram.org/bots/api#getupdates, "This method will not work
    if an outgoing webhook is set up." covers the webhook variant)."""
    other = telegram.Bot(DEFAULT_TOKEN, base_url=server.api_base)
    async with other:
        first = asyncio.create_task(other.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(bot.get_updates(timeout=1))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first
        assert await second == ()


async def test_set_webhook_terminates_a_long_poll(bot: telegram.Bot, server: SandboxServer) -> None:
    """https://core.telegram.org/bots/api#getupdates: "This method will not work if an
    outgoing webhook is set up." A long poll waiting when setWebhook arrives answers 409
    "Conflict: terminated by setWebhook request"."""
    poller = telegram.Bot(DEFAULT_TOKEN, base_url=server.api_base)
    async with poller:
        poll = asyncio.create_task(poller.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        await bot.set_webhook("http://127.0.0.1:9/hook")
        with pytest.raises(Conflict, match="terminated by setWebhook request"):
            await poll


async def test_allowed_updates_persist(bot: telegram.Bot, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#getupdates: "allowed_updates: [...] If not
    specified, the previous setting will be used. Please note that this parameter doesn't
    affect updates created before the call to getUpdates" """
    chat = await started(people)
    await bot.get_updates(offset=-1, allowed_updates=["callback_query"])
    await people.send_text(chat, "filtered out")
    question = await bot.send_message(
        chat,
        "?",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
    )
    await people.tap(chat, question.message_id, data="a")
    offset = (await bot.get_updates())[0].update_id + 1
    kinds = [u.callback_query is not None for u in await bot.get_updates(offset=offset)]
    assert kinds == [True]
    await bot.get_updates(offset=offset + 1, allowed_updates=[])
    await people.send_text(chat, "visible again")
    assert (await bot.get_updates(offset=offset + 1))[0].message is not None


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[str | None, dict[str, Any]]]]]:
    """A webhook receiver on 127.0.0.1 recording (secret header, update)."""
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hook", received
    finally:
        await runner.cleanup()


async def test_webhook_round_trip(
    bot: telegram.Bot,
    people: AsyncSandboxClient,
    receiver: tuple[str, list[tuple[str | None, dict[str, Any]]]],
) -> None:
    """https://core.telegram.org/bots/api#setwebhook: "Whenever there is an update for the
    bot, we will send an HTTPS POST request to the specified URL, containing a
    JSON-serialized Update." and secret_token: "A secret token to be sent in a header
    “X-Telegram-Bot-Api-Secret-Token” in every webhook request". getUpdates: "This method
    will not work if an outgoing webhook is set up." """
    url, received = receiver
    chat = await started(people)
    assert await bot.set_webhook(url, secret_token="s3cret-Token_1") is True
    info = await bot.get_webhook_info()
    assert info.url == url
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    await people.send_text(chat, "via webhook")
    for _ in range(100):
        if len(received) == 2:
            break
        await asyncio.sleep(0.02)
    assert [secret for secret, _ in received] == ["s3cret-Token_1"] * 2
    assert [update["message"]["text"] for _, update in received] == ["/start", "via webhook"]
    assert (await bot.get_webhook_info()).pending_update_count == 0
    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""
    await people.send_text(chat, "polling again")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["polling again"]


async def test_webhook_failures_are_reported(bot: telegram.Bot, people: AsyncSandboxClient) -> None:
    """https://core.telegram.org/bots/api#webhookinfo: "last_error_message: Optional. Error
    message in human-readable format for the most recent error that happened when trying to
    deliver an update via webhook". Nothing listens on the URL, so the update stays
    pending."""
    chat = await started(people)
    await bot.set_webhook("http://127.0.0.1:9/nowhere")
    for _ in range(100):
        info = await bot.get_webhook_info()
        if info.last_error_message:
            break
        await asyncio.sleep(0.02)
    assert info.last_error_message == "Connection refused"
    assert info.pending_update_count == 1
    assert [e["text"] for e in await people.transcript(chat)] == ["/start"]


async def test_application_polling_answers_start(
    server: SandboxServer, people: AsyncSandboxClient
) -> None:
    """A full telegram.ext.Application polls the sandbox: /start reaches a CommandHandler
    (https://core.telegram.org/bots/features#commands: "Commands are a flexible way to
    communicate with your bot") and its reply shows in the transcript."""

    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Hello! args={context.args}")

    application = (
        Application.builder()
        .token(DEFAULT_TOKEN)
        .base_url(server.api_base)
        .base_file_url(server.file_base)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    person = await people.create_person("Ann")
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        await people.send_command(person["id"], "start", "plant-7")
        for _ in range(150):
            entries = await people.transcript(person["id"])
            if len(entries) == 2:
                break
            await asyncio.sleep(0.02)
        await application.updater.stop()
        await application.stop()
    assert [(e["from"], e["text"]) for e in entries] == [
        ("person", "/start plant-7"),
        ("bot", "Hello! args=['plant-7']"),
    ]

"""The person side: people, their messages, taps, blocks, transcripts, logs and counters.

Updates produced here must look like Telegram's: https://core.telegram.org/bots/api#update
("This object represents an incoming update."), #message, #callbackquery and
#chatmemberupdated.
"""

from __future__ import annotations

import base64

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.client import AsyncSandboxClient, SandboxClient, SandboxError
from sandbox.server import SandboxServer

from .conftest import PNG, Api, started


async def test_people_are_created_without_starting_the_chat(
    people: AsyncSandboxClient, api: Api
) -> None:
    """https://core.telegram.org/bots/features (bots FAQ): "Bots can't initiate conversations
    with users. A user must either add them to a group or send them a message first." """
    ann = await people.create_person("Ann", id=42, username="ann", language_code="de")
    assert ann == {
        "id": 42,
        "is_bot": False,
        "first_name": "Ann",
        "username": "ann",
        "language_code": "de",
    }
    bob = await people.create_person("Bob")
    assert bob["id"] != 42
    with pytest.raises(SandboxError, match="taken"):
        await people.create_person("Again", id=42)
    assert (await api("sendMessage", chat_id=42, text="hi"))[0] == 403
    await people.send_text(42, "hello bot")
    assert (await api("sendMessage", chat_id=42, text="hi"))[0] == 200
    assert [p["id"] for p in await people.people()] == [42, bob["id"]]
    opened = await people.create_person("Cid", started=True)
    assert (await api("sendMessage", chat_id=opened["id"], text="hi"))[0] == 200


async def test_commands_carry_bot_command_entities(
    people: AsyncSandboxClient, bot: telegram.Bot
) -> None:
    """https://core.telegram.org/bots/api#messageentity: "bot_command (/start@jobs_bot)" and
    https://core.telegram.org/bots/features#deep-linking: "/start PAYLOAD"."""
    person = await people.create_person("Ann")
    posted = await people.send_command(person["id"], "start", "plant-7")
    assert posted["message"]["text"] == "/start plant-7"
    assert posted["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    await people.send_text(person["id"], "😀 try /help@execbot_sandbox_bot now")
    updates = await bot.get_updates()
    message = updates[-1].message
    assert message is not None
    assert message.parse_entities() == {message.entities[0]: "/help@execbot_sandbox_bot"}
    assert updates[0].message is not None and updates[0].message.text == "/start plant-7"


async def test_person_photo_and_document(
    people: AsyncSandboxClient, bot: telegram.Bot, server: SandboxServer
) -> None:
    """https://core.telegram.org/bots/api#message: "photo: Optional. Message is a photo,
    available sizes of the photo" and "document: Optional. Message is a general file"; the
    bot downloads them through getFile."""
    chat = await started(people)
    await people.send_photo(chat, PNG, caption="meter reading")
    await people.send_document(chat, b"%PDF-1.4 report", filename="report.pdf")
    updates = await bot.get_updates()
    photo_message, document_message = updates[-2].message, updates[-1].message
    assert photo_message is not None and document_message is not None
    assert photo_message.caption == "meter reading"
    photo = await bot.get_file(photo_message.photo[-1].file_id)
    assert bytes(await photo.download_as_bytearray()) == PNG
    assert document_message.document is not None
    assert document_message.document.mime_type == "application/pdf"
    document = await bot.get_file(document_message.document.file_id)
    assert bytes(await document.download_as_bytearray()) == b"%PDF-1.4 report"
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            f"/sandbox/people/{chat}/photos",
            json={"data": base64.b64encode(PNG).decode(), "filename": "p.png"},
        )
        assert response.json()["result"]["message"]["photo"][0]["width"] == 3
        refused = await http.post(
            f"/sandbox/people/{chat}/photos",
            json={"data": base64.b64encode(b"text").decode(), "filename": "p.png"},
        )
        assert refused.status_code == 400


async def test_reply_to_a_bot_message(people: AsyncSandboxClient, bot: telegram.Bot) -> None:
    """https://core.telegram.org/bots/api#message: "reply_to_message: Optional. For replies
    in the same chat and message thread, the original message." """
    chat = await started(people)
    question = await bot.send_message(chat, "Reading?")
    await people.reply_to(chat, question.message_id, "42.5")
    message = (await bot.get_updates())[-1].message
    assert message is not None and message.reply_to_message is not None
    assert message.reply_to_message.text == "Reading?"
    with pytest.raises(SandboxError, match="no message 99"):
        await people.reply_to(chat, 99, "lost")


async def test_taps_follow_the_current_keyboard(
    people: AsyncSandboxClient, bot: telegram.Bot
) -> None:
    """https://core.telegram.org/bots/api#callbackquery: "data: Optional. Data associated
    with the callback button." A person can only press buttons the message shows now."""
    chat = await started(people)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Done", callback_data="done")],
            [InlineKeyboardButton("Manual", url="https://example.org/manual")],
        ]
    )
    sent = await bot.send_message(chat, "Press cleaned?", reply_markup=keyboard)
    first = await people.tap(chat, sent.message_id, label="Done")
    second = await people.tap(chat, sent.message_id, data="done")
    assert first != second
    with pytest.raises(SandboxError, match="no button with label 'Later'"):
        await people.tap(chat, sent.message_id, label="Later")
    with pytest.raises(SandboxError, match="sends nothing to the bot"):
        await people.tap(chat, sent.message_id, label="Manual")
    await bot.edit_message_reply_markup(chat, sent.message_id)
    with pytest.raises(SandboxError, match="has no inline keyboard"):
        await people.tap(chat, sent.message_id, label="Done")
    queries = [u.callback_query for u in await bot.get_updates() if u.callback_query]
    assert [(q.id, q.data) for q in queries] == [(first, "done"), (second, "done")]
    assert queries[0].chat_instance


async def test_block_and_unblock_send_my_chat_member(
    people: AsyncSandboxClient, bot: telegram.Bot
) -> None:
    """https://core.telegram.org/bots/api#update: "my_chat_member: Optional. The bot's chat
    member status was updated in a chat. For private chats, this update is received only
    when the bot is blocked or unblocked by the user." """
    chat = await started(people)
    assert (await people.block(chat))["changed"] is True
    assert (await people.block(chat))["changed"] is False
    with pytest.raises(SandboxError, match="blocked the bot"):
        await people.send_text(chat, "blocked people cannot write")
    await people.unblock(chat)
    changes = [u.my_chat_member for u in await bot.get_updates() if u.my_chat_member]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]
    assert changes[0].from_user.id == chat and changes[0].new_chat_member.user.id == 123456


async def test_groups(people: AsyncSandboxClient, bot: telegram.Bot) -> None:
    """https://core.telegram.org/bots/api#chat: "type: Type of the chat, can be either
    “private”, “group”, “supergroup” or “channel”". Group members write with chat_id."""
    ann = await people.create_person("Ann")
    outsider = await people.create_person("Out")
    group = await people.create_group("Night shift", [ann["id"]])
    assert group["type"] == "group" and group["id"] < 0
    await people.send_text(ann["id"], "/report@execbot_sandbox_bot", chat_id=group["id"])
    with pytest.raises(SandboxError, match="not a member"):
        await people.send_text(outsider["id"], "let me in", chat_id=group["id"])
    updates = await bot.get_updates()
    assert updates[0].my_chat_member is not None
    message = updates[1].message
    assert message is not None and message.chat.type == "group"
    sent = await bot.send_message(group["id"], "Report due at 6")
    assert sent.chat.title == "Night shift"
    assert [e["text"] for e in await people.transcript(group["id"])][-1] == "Report due at 6"


async def test_call_log_and_counters(people: AsyncSandboxClient, api: Api) -> None:
    """Every Bot API call is logged with method, params, status, description and time."""
    chat = await started(people)
    await api.ok("sendMessage", chat_id=chat, text="hi")
    await api("sendMessage", chat_id=chat, text="")
    await api("getMe")
    calls = await people.calls("sendMessage")
    assert [(c["status"], c["description"]) for c in calls] == [
        (200, None),
        (400, "Bad Request: message text is empty"),
    ]
    assert calls[0]["params"] == {"chat_id": str(chat), "text": "hi"}
    await api.ok("setMyCommands", commands=[{"command": "start", "description": "Begin"}])
    menu = (await people.calls("setMyCommands"))[-1]["params"]["commands"]
    assert menu == [{"command": "start", "description": "Begin"}]
    assert calls[0]["time"] > 0 and calls[0]["bot_id"] == 123456
    later = await people.calls(since=calls[-1]["seq"])
    assert [c["method"] for c in later] == ["getMe", "setMyCommands"]
    assert len(await people.calls(limit=1)) == 1
    counters = await people.counters()
    assert counters["methods"] == {"sendMessage": 2, "getMe": 1, "setMyCommands": 1}
    assert counters["statuses"] == {"200": 3, "400": 1}
    assert counters["429"] == 0
    assert counters["peak_chat_rate"] == 1


async def test_reset_forgets_everything_but_update_ids(
    people: AsyncSandboxClient, bot: telegram.Bot, api: Api
) -> None:
    """After a reset people, chats, logs and faults are gone; update ids keep increasing so a
    polling bot never confirms updates it has not seen."""
    chat = await started(people)
    await people.add_fault("error", status=500)
    last_id = (await people.send_text(chat, "before"))["update_id"]
    await people.reset()
    assert await people.people() == [] and await people.faults() == []
    assert await people.calls() == []
    assert (await api("sendMessage", chat_id=chat, text="x"))[1]["description"] == (
        "Bad Request: chat not found"
    )
    again = await started(people, id=chat)
    assert again == chat
    assert [u.update_id for u in await bot.get_updates()] == [last_id + 1]


def test_synchronous_client(threaded_server: SandboxServer) -> None:
    """The synchronous SandboxClient drives the same API (the server runs on its own
    thread)."""
    with SandboxClient(threaded_server.url) as client:
        ann = client.create_person("Ann")
        posted = client.send_command(ann["id"], "start")
        assert posted["message"]["entities"][0]["type"] == "bot_command"
        assert client.health()["bots"] == [{"id": 123456, "username": "execbot_sandbox_bot"}]
        assert client.limits()["enabled"] is False
        client.add_fault("drop", method="getMe")
        assert client.faults()[0]["kind"] == "drop"
        client.clear_faults()
        assert [e["text"] for e in client.transcript(ann["id"])] == ["/start"]
        assert client.counters()["methods"] == {}
        with pytest.raises(SandboxError, match="no person"):
            client.send_text(999, "ghost")
        client.reset()
        assert client.people() == []

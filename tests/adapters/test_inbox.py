"""The inbox (bot.delivery.inbox): an update whose handling fails is tried again and then
handled once; one that keeps failing ends dead, with its error, and `db status` shows it; an
update delivered twice (polling again after a crash before the offset moved) is stored and
handled once; a tap whose answer is slow holds no worker, and its update is done only once
the answer call has returned."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select
from telegram import Update

from bot.cli.data import inbox_line
from bot.delivery import polling
from bot.services import replies as reply_service
from bot.store import inbox
from models.tables import InboxUpdate, Reply
from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, W1, WALT, morning


def stored_replies(h: Harness) -> list[Reply]:
    with h.session() as session:
        return list(session.exec(select(Reply)).all())


def rows(h: Harness) -> list[InboxUpdate]:
    with h.session() as session:
        return list(session.exec(select(InboxUpdate).order_by(col(InboxUpdate.update_id))).all())


async def test_a_failing_update_is_tried_again_and_handled_once(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.expect_errors = True
    await morning(h)
    await h.message(WALT, NUDGE)
    await h.settle()
    real, calls = reply_service.typed, []

    def stalls_twice(*args: Any, **kwargs: Any) -> Any:  # the database, gone for a moment
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        return real(*args, **kwargs)

    monkeypatch.setattr(reply_service, "typed", stalls_twice)
    sent = await h.people.send_text(WALT, "done 1")
    await h.message(WALT, r"^Recorded: 1\. Close the valve is done\.")
    await h.settle()
    [row] = [r for r in rows(h) if r.update_id == sent["update_id"]]
    assert (row.state, row.attempts, len(calls)) == ("done", 2, 3)
    [reply] = stored_replies(h)
    assert reply.telegram_update_id == sent["update_id"]
    assert not [t for t in await h.texts(WALT) if "went wrong" in t]  # it worked in the end


async def test_an_update_that_keeps_failing_ends_dead_and_is_shown(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.expect_errors = True
    h.settings = h.settings.model_copy(
        update={"inbox": h.settings.inbox.model_copy(update={"max_tries": 2})}
    )
    await morning(h)
    await h.message(WALT, NUDGE)
    await h.settle()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("disk I/O error"))

    monkeypatch.setattr(reply_service, "typed", broken)
    sent = await h.people.send_text(WALT, "done 1")
    await h.message(WALT, "Something went wrong")  # told once, after the last try
    await h.settle()
    [row] = [r for r in rows(h) if r.update_id == sent["update_id"]]
    assert (row.state, row.attempts) == ("dead", 2)
    assert "disk I/O error" in (row.last_error or "")
    assert stored_replies(h) == []
    with h.session() as session:
        [dead] = inbox.dead_updates(session)
    assert dead.update_id == sent["update_id"]
    line = inbox_line(h.engine)
    assert line.startswith("inbox: 0 waiting, 1 dead (latest dead: update ")
    assert "disk I/O error" in line
    assert len([t for t in await h.texts(WALT) if "went wrong" in t]) == 1


async def test_an_update_delivered_twice_is_stored_and_handled_once(h: Harness) -> None:
    await morning(h)
    await h.message(WALT, NUDGE)
    await h.settle()
    sent = await h.people.send_text(WALT, "done 1")
    await h.message(WALT, r"^Recorded: 1\. Close the valve is done\.")
    await h.settle()
    [row] = [r for r in rows(h) if r.update_id == sent["update_id"]]
    # Polling again after a crash before the offset moved: the same update comes again.
    again = Update.de_json(row.payload, h.bot.app.bot)
    assert await polling.store_updates(h.bot.app, [again, again], "polling") == 0
    await h.settle()
    assert [r.update_id for r in rows(h)].count(sent["update_id"]) == 1
    assert len(stored_replies(h)) == 1
    assert len([t for t in await h.texts(WALT) if "Recorded" in t]) == 1


async def test_a_slow_answer_holds_no_worker_and_its_update_is_done_after_it(h: Harness) -> None:
    h.settings = h.settings.model_copy(
        update={"inbox": h.settings.inbox.model_copy(update={"workers": 1})}
    )
    await morning(h)
    walt = (await h.message(WALT, NUDGE))["message_id"]
    willy = await h.message(W1, NUDGE)
    await h.settle()
    [done] = [
        b["text"]
        for row in willy["reply_markup"]["inline_keyboard"]
        for b in row
        if "Done" in b["text"]
    ][:1]
    await h.people.add_fault("delay", method="answerCallbackQuery", seconds=3.0)
    slow = await h.people.tap(WALT, walt, label="1 ✅ Done")
    await h.wait("Walt's reply stored", lambda: stored_replies(h) or None)
    # The one worker is free again while Walt's answer is on its way: Willy is answered first.
    await h.people.tap(W1, willy["message_id"], label=done)
    await h.toast(W1, r"^Recorded: ")
    assert await h.toasts(WALT) == []
    [walt_row] = [r for r in rows(h) if r.chat_key == WALT and r.state != "done"]
    assert walt_row.state == "handling"  # not done before its answer was sent
    await h.toast(WALT, r"^Recorded: 1\. Close the valve is done\.$")
    await h.settle()
    assert {r.state for r in rows(h)} == {"done"}
    answers = [c for c in await h.people.calls("answerCallbackQuery") if c["status"] == 200]
    assert str(slow) in {str(c["params"]["callback_query_id"]) for c in answers}

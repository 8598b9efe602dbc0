"""``/today`` and ``/week`` (handlers/agenda.py): a person's own duties with their state, and
the empty answers."""

from __future__ import annotations

from tests.adapters.harness import Harness
from tests.adapters.org import NUDGE, W3, WALT, morning


async def test_today_lists_the_days_duties_with_their_state(h: Harness) -> None:
    await morning(h)
    nudge = await h.message(WALT, NUDGE)
    await h.people.tap(WALT, nudge["message_id"], label="1 ✅ Done")
    await h.toast(WALT, "Recorded: 1. Close the valve is done.")
    await h.people.send_text(WALT, "later 3 15:30")
    await h.message(WALT, r"Recorded: 3\. Clean the filter will be done by 15:30\.")
    mark = await h.last_id(WALT)
    await h.people.send_command(WALT, "today")
    today = (await h.message(WALT, "^Your duties today", after=mark))["text"]
    assert today.splitlines() == [
        "Your duties today, Tue, Nov 17:",
        "1. Close the valve (due 09:00) — ✅ done",
        "2. Fix the pump (due 09:00) — open",
        "3. Clean the filter (due 09:00) — 🕒 later, by 15:30",
        "4. Photograph the guard rail (due 09:00) — open",
    ]
    await h.people.send_command(W3, "today")  # Victor has nothing today
    await h.message(W3, r"^No duties for you today, Tue, Nov 17\.$")


async def test_week_lists_the_coming_working_days(h: Harness) -> None:
    await morning(h)
    await h.people.send_command(WALT, "week")
    week = (await h.message(WALT, "^Your duties for the next seven days:"))["text"]
    days = [line for line in week.splitlines() if not line.startswith("  ")][1:]
    assert days == ["Tue, Nov 17:", "Wed, Nov 18:", "Thu, Nov 19:", "Fri, Nov 20:", "Mon, Nov 23:"]
    assert week.count("  07:00 Photograph the guard rail") == 5
    await h.people.send_command(W3, "week")
    await h.message(W3, r"^No duties for you in the next seven days\.$")

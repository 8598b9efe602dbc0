"""``/today`` and ``/week``: a person's own duties."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.render import dates, texts
from bot.render.messages import day_label, local, when_label
from bot.services import agenda
from handlers.common import actor_or_refuse, answer


async def today(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context)
    if actor is None:
        return
    rt = context.bot_data.runtime
    result = await rt.call(agenda.today, rt.engine, rt.settings, actor.person_id, rt.clock())
    lang = actor.language
    day = day_label(lang, result.today)
    if not result.rows:
        await answer(update, context, texts.render(lang, "agenda.today_empty", day=day))
        return
    lines = [texts.render(lang, "agenda.today_header", day=day)]
    for row in result.rows:
        due = dates.clock(lang, local(row.due_at, result.timezone))
        promised = row.promised_at or row.due_at  # "later": by the promised time
        time = when_label(lang, promised, result.timezone, result.today)
        status = texts.render(lang, f"status.{row.status}", time=time)
        item = texts.render(lang, "nudge.item", number=row.number, title=row.title, due=due)
        lines.append(f"{item} — {status}")
    await answer(update, context, "\n".join(lines))


async def week(update: Update, context: Context) -> None:
    actor = await actor_or_refuse(update, context)
    if actor is None:
        return
    rt = context.bot_data.runtime
    tz, items = await rt.call(agenda.week, rt.engine, rt.settings, actor.person_id, rt.clock())
    lang = actor.language
    if not items:
        await answer(update, context, texts.render(lang, "agenda.week_empty"))
        return
    lines = [texts.render(lang, "agenda.week_header")]
    current = None
    for item in items:
        if item.day != current:
            current = item.day
            lines.append(texts.render(lang, "agenda.week_day", day=day_label(lang, item.day)))
        message_id = "agenda.week_absent" if item.absent else "agenda.week_item"
        clock = dates.clock(lang, local(item.nudge_at, tz))
        lines.append(texts.render(lang, message_id, time=clock, title=item.title))
    await answer(update, context, "\n".join(lines)[:4096])

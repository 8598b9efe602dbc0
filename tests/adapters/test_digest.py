"""The daily digest (bot/services/digest.py, the ``digest`` pass, handlers/digest.py): at
``[reports] digest_at`` in each leader's own time zone, once a day, also when the pass runs
again in that minute after a restart; the day's figures of the units below and of the
leader's own people, checked against answers given by hand, with a trend arrow against the
four weeks before; in the leader's language; ``/digest off`` stops it.

A plant (Berlin; Paula Manager, English) over a workshop East (Shanghai; Egor Lead, Russian)
of three workers, one duty each, nudged at 08:00 and due at 09:00 Shanghai time. Monday all
three answer done on time; Tuesday Willy is done on time, Wanda late (09:30) and Wolf is
blocked (waiting on others: the process side) and still open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.adapters.harness import Harness, harness
from tests.adapters.org import CONFIG

PM, EA, W1, W2, W3 = 201, 202, 203, 204, 205
CHATS = {"pm": PM, "ea": EA, "w1": W1, "w2": W2, "w3": W3}
MONDAY = datetime.fromisoformat("2026-11-16T08:00:00+08:00")  # Shanghai's morning
TUESDAY = datetime.fromisoformat("2026-11-17T08:00:00+08:00")
EAST_DIGEST = datetime.fromisoformat("2026-11-17T18:00:00+08:00")  # 10:00 UTC
PLANT_DIGEST = datetime.fromisoformat("2026-11-17T18:00:00+01:00")  # 17:00 UTC


def _person(key: str, name: str, unit: str, extra: str = "") -> str:
    return f'[[people]]\nkey = "{key}"\nname = "{name}"\nunit = "{unit}"\npost = "op"\n{extra}'


def _duty(key: str, assignee: str) -> str:
    return (
        f'[[duties]]\nkey = "{key}"\ntitle = "Duty {key}"\nassignee = "{assignee}"\n'
        'nudge = "08:00"\ndue = "09:00"\n'
    )


ORG = "\n".join(
    [
        '[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\nleader = "pm"\n'
        'timezone = "Europe/Berlin"\n',
        '[[units]]\nkey = "east"\nname = "East"\nkind = "workshop"\nparent = "plant"\n'
        'leader = "ea"\ntimezone = "Asia/Shanghai"\n',
        _person("pm", "Paula Manager", "plant"),
        _person("ea", "Egor Lead", "east", 'language = "ru"\n'),
        _person("w1", "Willy One", "east"),
        _person("w2", "Wanda Two", "east"),
        _person("w3", "Wolf Three", "east"),
        _duty("a", "w1"),
        _duty("b", "w2"),
        _duty("c", "w3"),
    ]
)
DIGEST_CONFIG = CONFIG + '[reports]\ndigest_at = "18:00"\n'


@pytest.fixture
async def d(tmp_path: Path, template_db: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path, template_db, MONDAY, config_extra=DIGEST_CONFIG) as h:
        h.import_org(ORG)
        await h.bind(CHATS)
        yield h
        assert not h.errors.records, h.errors.records


async def _answer(h: Harness, chat: int, text: str, recorded: str) -> None:
    await h.people.send_text(chat, text)
    await h.message(chat, recorded)


async def _history(h: Harness) -> None:
    """Monday: all done on time. Tuesday: on time, late, blocked."""
    await h.start_bot()
    await h.run_pass("plan", "nudges")
    for chat in (W1, W2, W3):
        await h.message(chat, "your duties for")
    h.clock.advance(minutes=10)
    for chat in (W1, W2, W3):
        await _answer(h, chat, "done 1", "is done")
    h.clock.set(TUESDAY)
    await h.run_pass("plan", "nudges")
    for chat in (W1, W2, W3):
        await h.message(chat, "your duties for Tue")
    h.clock.advance(minutes=10)
    await _answer(h, W1, "done 1", "is done")
    await _answer(h, W3, "blocked 1 waiting for the crane", "is blocked")
    h.clock.advance(minutes=80)  # 09:30: half an hour past due, within the grace
    await _answer(h, W2, "done 1", "is done")
    await h.settle()


async def _digests(h: Harness, chat: int, header: str) -> list[str]:
    return [t for t in await h.texts(chat) if t.startswith(header)]


EN, RU = "Daily digest for", "Сводка за"


async def test_the_digest_at_each_leaders_local_time_once_with_the_days_figures(
    d: Harness,
) -> None:
    await _history(d)
    d.clock.set(EAST_DIGEST.replace(minute=59, hour=17))
    await d.run_pass("digest")
    await d.settle()
    assert await _digests(d, EA, RU) == [] and await _digests(d, PM, EN) == []

    d.clock.set(EAST_DIGEST)  # 18:00 in Shanghai, 11:00 in Berlin
    await d.run_pass("digest")
    await d.settle()
    [east] = await _digests(d, EA, RU)
    assert east.splitlines() == [
        "Сводка за вт, 17 нояб.",
        "",
        "Ваша команда:",  # in order of their keys
        "• Willy One: 100% в срок → · 0 с опозданием · 0 не выполнено · 0 открыто"
        " · блокировки: процесс 0, навыки 0, другое 0",
        "• Wanda Two: 0% в срок ↓ · 1 с опозданием · 0 не выполнено · 0 открыто"
        " · блокировки: процесс 0, навыки 0, другое 0",
        "• Wolf Three: 0% в срок ↓ · 0 с опозданием · 0 не выполнено · 1 открыта"
        " · блокировки: процесс 1, навыки 0, другое 0",
        "",
        "Доля выполненных в срок из назначенных, без отгулов и отсутствий;"
        " ↑ ↓ → в сравнении с предыдущими четырьмя неделями.",
    ]
    assert await _digests(d, PM, EN) == []  # 11:00 in Berlin

    # the same minute again, and after a restart: nothing twice
    await d.run_pass("digest")
    await d.bot.stop()
    await d.start_bot()
    await d.run_pass("digest")
    await d.settle()
    assert len(await _digests(d, EA, RU)) == 1

    d.clock.set(PLANT_DIGEST)  # 18:00 in Berlin, 01:00 on Wednesday in Shanghai
    await d.run_pass("digest")
    await d.run_pass("digest")
    await d.settle()
    [plant] = await _digests(d, PM, EN)
    assert plant.splitlines() == [
        "Daily digest for Tue, Nov 17",
        "",
        "Units below you:",
        "• East: 33% on time ↓ · 1 late · 0 not done · 1 open"
        " · blocks: process 1, skill 0, other 0 (held by Wolf Three 1)",
        "",
        "On time out of those due, excused and absent left out;"
        " ↑ ↓ → against the previous four weeks.",
    ]
    # Shanghai's Wednesday has begun, but its digest time has not come
    assert len(await _digests(d, EA, RU)) == 1


async def test_digest_off_stops_it_and_on_brings_it_back(d: Harness) -> None:
    await _history(d)
    await d.people.send_command(EA, "digest")
    await d.message(EA, "Ежедневная сводка включена: она приходит в 18:00")
    await d.people.send_command(EA, "digest", "off")
    await d.message(EA, "ежедневных сводок больше не будет")
    await d.people.send_command(EA, "digest")
    await d.message(EA, "Ежедневная сводка выключена")
    await d.people.send_command(W1, "digest")
    await d.message(W1, "only for leaders")
    await d.people.send_command(PM, "digest", "maybe")
    await d.message(PM, "/digest on or /digest off to change it")

    d.clock.set(EAST_DIGEST)
    await d.run_pass("digest")
    await d.settle()
    assert await _digests(d, EA, RU) == []

    await d.people.send_command(EA, "digest", "on")
    await d.message(EA, "ежедневная сводка включена")
    await d.run_pass("digest")  # the same evening: today's digest comes now
    await d.settle()
    assert len(await _digests(d, EA, RU)) == 1

"""Every person reads execbot in their own language, end to end through the sandbox.

A Russian-speaking worker (no language in the org file; his Telegram app sends
``language_code = "ru"`` with /start) is greeted and nudged in Russian and blocks with a
Russian note; his Chinese-speaking team leader (``language = "zh-Hans"`` in the org file,
although her Telegram app is English: the org file wins) gets the escalation in Chinese with
the Russian note quoted word for word; the German-speaking workshop head (``language = "de"``)
gets ``/team`` in German; the worker sends ``/language``, taps "English", and his next nudge
is in English. Then the Russian plurals, as Russian-speaking team leaders read them in the
headers of escalations of 1, 3, 5, 11 and 21 silent duties ("1 задача", "3 задачи", "5 задач",
"11 задач"; 21 items come as 15 + 6, one message holding at most 15, so "21 задача" is checked
in the catalogue), and 21 through a real path: the dead-message report to a Russian-speaking
admin, "21 сообщение".

The expected texts come from the catalogues (``texts.render``), and the test checks what a
native reader would: the letters of the language are there, not English, the exact Russian
word forms, the note unchanged.
"""

from __future__ import annotations

import re
import string
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.render import texts
from models.tables import Outbox
from tests.adapters.harness import Harness, harness

START = datetime.fromisoformat("2026-11-17T07:00:00+01:00")  # a Tuesday, the first nudge
WORKER, LEADER, HEAD = 7101, 7102, 7103
IVAN, WANG, HANNA = "Иван Петров", "王伟", "Hanna Braun"
READING = "Записать температуры печи, зоны 1–4"  # the plant's own title: never translated
FILTER = "Очистить фильтр дымососа"
NOTE = "Нет запасного уплотнения клапана, склад привезёт только в четверг."
TEAM, SHOP = "Furnace team", "Casting workshop"

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
HAN = re.compile(r"[\u4e00-\u9fff]")

CONFIG = """
[escalation]
group_window = "0s"
quiet_hours = ""
[escalation.policies.standard]
reminders = []
levels = [
  { after = "5m", notify = "next" },
  { after = "1h", notify = "next" },
]
ack_timeout = "1h"
"""

ORG = f"""
[[units]]
key = "shop"
name = "{SHOP}"
kind = "workshop"
leader = "h.braun"

[[units]]
key = "team"
name = "{TEAM}"
kind = "team"
parent = "shop"
leader = "w.wei"

[[people]]
key = "h.braun"
name = "{HANNA}"
unit = "shop"
post = "workshop head"
language = "de"

[[people]]
key = "w.wei"
name = "{WANG}"
unit = "team"
post = "team leader"
language = "zh-Hans"

[[people]]
key = "i.petrov"
name = "{IVAN}"
unit = "team"
post = "furnace operator"

[[duties]]
key = "reading"
title = "{READING}"
assignee = "i.petrov"
nudge = "07:00"
due = "+20m"

[[duties]]
key = "filter"
title = "{FILTER}"
assignee = "i.petrov"
nudge = "09:00"
due = "10:00"
"""


def shape(lang: str, message_id: str, **known: Any) -> str:
    """A regex of the text ``message_id`` has in ``lang``: the given placeholders filled in,
    any other matches any text (so a test need not know how a date is written)."""
    raw = texts.catalogue(lang).get(message_id) or texts.catalogue("en")[message_id]
    template = raw if isinstance(raw, str) else raw["other"]
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    holes = {name: f"⟦{name}⟧" for name in fields - set(known)}
    pattern = re.escape(texts.render(lang, message_id, **holes, **known))
    for hole in holes.values():
        pattern = pattern.replace(re.escape(hole), ".+?")
    return pattern


def labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["text"] for row in rows for button in row]


def without(text: str, *parts: str) -> str:
    for part in parts:
        text = text.replace(part, "")
    return text


async def join(h: Harness, key: str, chat: int, name: str, language_code: str) -> dict[str, Any]:
    """The person opens their invite link from a Telegram app in ``language_code``; the
    greeting."""
    first, _, last = name.partition(" ")
    await h.people.create_person(
        first, id=chat, last_name=last or None, language_code=language_code
    )
    await h.people.send_command(chat, "start", h.invite_code(key))
    return await h.message(chat, re.escape(name))  # any language's greeting names them


async def test_each_person_reads_their_own_language(tmp_path: Path, template_db: Path) -> None:
    async with harness(tmp_path, template_db, START, config_extra=CONFIG) as h:
        h.import_org(ORG)
        await h.start_bot()
        plant = h.settings.plant.name

        # Joining: Иван's app is Russian, so is his greeting; the heads' apps are English,
        # the org file names their languages, and the org file wins.
        greeting = await join(h, "i.petrov", WORKER, IVAN, "ru")
        assert greeting["text"] == texts.render("ru", "start.greeting", name=IVAN, plant=plant)
        assert CYRILLIC.search(without(greeting["text"], IVAN)), greeting["text"]
        hello = await join(h, "w.wei", LEADER, WANG, "en")
        assert hello["text"] == texts.render("zh-Hans", "start.greeting", name=WANG, plant=plant)
        assert HAN.search(without(hello["text"], WANG)), hello["text"]
        hallo = await join(h, "h.braun", HEAD, HANNA, "en")
        assert hallo["text"] == texts.render("de", "start.greeting", name=HANNA, plant=plant)
        assert hallo["text"] != texts.render("en", "start.greeting", name=HANNA, plant=plant)

        # 07:00: the nudge, in Russian, with Russian buttons.
        await h.run_pass("plan", "nudges")
        nudge = await h.message(WORKER, re.escape(READING))
        assert re.search(shape("ru", "nudge.header", name=IVAN), nudge["text"]), nudge["text"]
        assert CYRILLIC.search(without(nudge["text"], IVAN, READING)), nudge["text"]
        buttons = [
            texts.render("ru", f"nudge.button_{kind}", number=1)
            for kind in ("done", "blocked", "later")
        ]
        assert labels(nudge) == buttons
        assert buttons[0] != "1 ✅ Done" and CYRILLIC.search(buttons[0]), buttons

        # He blocks it (materials) and adds a note in Russian, as a reply to the question.
        await h.people.tap(WORKER, nudge["message_id"], label=buttons[1])
        ask = await h.message(
            WORKER, re.escape(texts.render("ru", "reply.ask_category", number=1, title=READING))
        )
        materials = {
            lang: texts.render(lang, "reply.category_materials") for lang in ("ru", "zh-Hans")
        }
        assert labels(ask)[1] == materials["ru"] and CYRILLIC.search(materials["ru"])
        await h.people.tap(WORKER, ask["message_id"], label=materials["ru"])
        note_ask = await h.message(WORKER, re.escape(texts.render("ru", "reply.ask_note")))
        await h.people.reply_to(WORKER, note_ask["message_id"], NOTE)
        await h.message(
            WORKER, re.escape(texts.render("ru", "reply.recorded_note", number=1, title=READING))
        )
        await h.settle()

        # The escalation: in Chinese for the team leader, the Russian note quoted verbatim.
        await h.run_pass("escalation")
        notice = await h.message(LEADER, re.escape(NOTE))
        situation = texts.render(
            "zh-Hans", "escalation.block_note", category=materials["zh-Hans"], note=NOTE
        )
        item = texts.render(
            "zh-Hans", "escalation.item", index=1, person=IVAN, number=1, title=READING,
            situation=situation,
        )  # fmt: skip
        header = texts.render("zh-Hans", "escalation.header", count=1)
        assert notice["text"].splitlines() == [header, item], notice["text"]
        assert HAN.search(header) and HAN.search(materials["zh-Hans"]), (header, materials)
        assert HAN.search(without(notice["text"], IVAN, READING, NOTE)), notice["text"]
        assert f": {NOTE}" in notice["text"] or f"：{NOTE}" in notice["text"]  # whole, unchanged
        assert texts.render("zh-Hans", "escalation.ack", index=1) in labels(notice)
        assert all(HAN.search(label) for label in labels(notice)), labels(notice)

        # The workshop head's board, in German.
        mark = await h.last_id(HEAD)
        await h.people.send_command(HEAD, "team")
        board = (await h.message(HEAD, shape("de", "board.header"), after=mark))["text"]
        lines = board.splitlines()
        assert re.fullmatch(shape("de", "board.header"), lines[0]), board
        row = shape("de", "board.row", unit=TEAM, blocked=1)
        assert any(re.fullmatch(row, line) for line in lines), (row, board)
        assert texts.render("de", "board.open_header") in lines, board
        blocked = texts.render("de", "status.blocked")
        assert any(IVAN in line and blocked in line for line in lines), board
        assert texts.render("de", "board.open_header") != texts.render("en", "board.open_header")

        # /language: one button per language, each in its own name; he taps English.
        mark = await h.last_id(WORKER)
        await h.people.send_command(WORKER, "language")

        async def picker() -> dict[str, Any] | None:
            return next(
                (m for m in await h.messages(WORKER) if m["message_id"] > mark and labels(m)),
                None,
            )

        menu = await h.until("the language buttons", picker)
        names = sorted(label.removeprefix("✓").strip() for label in labels(menu))  # ✓ current
        assert names == sorted(["English", "Русский", "简体中文", "Deutsch"])
        assert names == sorted(
            texts.render(lang, "meta.language_name") for lang in texts.languages()
        )
        await h.people.tap(WORKER, menu["message_id"], label="English")
        await h.settle()

        # 09:00: the next nudge follows the choice.
        h.clock.set(START + timedelta(hours=2))
        mark = await h.last_id(WORKER)
        await h.run_pass("plan", "nudges")
        later = await h.message(WORKER, re.escape(FILTER), after=mark)
        english = (
            shape("en", "nudge.header", name=IVAN),
            shape("en", "nudge.header_more", name=IVAN),
        )
        assert any(re.search(pattern, later["text"]) for pattern in english), later["text"]
        assert not CYRILLIC.search(without(later["text"], IVAN, FILTER)), later["text"]
        assert labels(later) == ["2 ✅ Done", "2 ⛔ Blocked", "2 🕒 Later"]


# --- Russian plurals ---------------------------------------------------------------------------

SIZES = {"one": 1, "three": 3, "five": 5, "eleven": 11, "twenty-one": 21}
# The count and the noun as a Russian reader expects them (11 ends in 1 but takes "задач").
RUSSIAN = {1: "1 задача", 3: "3 задачи", 5: "5 задач", 11: "11 задач", 15: "15 задач"}
RUSSIAN |= {6: "6 задач", 21: "21 задача"}

LEADS = ["Ольга Кузнецова", "Сергей Иванов", "Наталья Попова", "Алексей Волков", "Марина Козлова"]
WORKERS = ["Дмитрий Орлов", "Андрей Морозов", "Павел Лебедев", "Николай Егоров", "Юрий Павлов"]
GROUPED = CONFIG.replace('group_window = "0s"', 'group_window = "5m"')  # one message a leader


def plural_org() -> str:
    """A workshop with one team per size: a Russian-speaking leader (org file) and a worker with
    that many duties, each nudged at 07:00 and due at 07:20 ("Обход 1", "Обход 2"...)."""
    lines = ['[[units]]\nkey = "shop"\nname = "Shop"\nkind = "workshop"\n']
    for (team, size), lead, worker in zip(SIZES.items(), LEADS, WORKERS, strict=True):
        lines += [
            f'[[units]]\nkey = "{team}"\nname = "Team {size}"\nkind = "team"\nparent = "shop"\n'
            f'leader = "lead-{team}"\n',
            f'[[people]]\nkey = "lead-{team}"\nname = "{lead}"\nunit = "{team}"\n'
            'post = "team leader"\nlanguage = "ru"\n',
            f'[[people]]\nkey = "work-{team}"\nname = "{worker}"\nunit = "{team}"\n'
            'post = "operator"\nlanguage = "ru"\n',
        ]
        lines += [
            f'[[duties]]\nkey = "{team}-{n}"\ntitle = "Обход {n}"\nassignee = "work-{team}"\n'
            'nudge = "07:00"\ndue = "+20m"\n'
            for n in range(1, size + 1)
        ]
    return "\n".join(lines)


async def test_russian_plurals_in_escalation_headers(tmp_path: Path, template_db: Path) -> None:
    async with harness(tmp_path, template_db, START, config_extra=GROUPED) as h:
        h.import_org(plural_org())
        chats = {}
        for index, team in enumerate(SIZES):
            chats[f"lead-{team}"] = 7200 + index
            chats[f"work-{team}"] = 7300 + index
        await h.bind(chats)
        await h.start_bot()
        await h.run_pass("plan", "nudges")
        await h.settle()
        h.clock.advance(minutes=26)  # due at 07:20, level 1 five minutes later: nobody answered
        await h.run_pass("escalation")
        h.clock.advance(minutes=5)  # the grouping window: each leader's items in one message
        await h.run_pass("escalation")
        await h.settle()

        headers: dict[int, list[str]] = {}
        for team, size in SIZES.items():
            messages = await h.messages(chats[f"lead-{team}"])
            headers[size] = [m["text"].splitlines()[0] for m in messages]
            listed = sum(len(re.findall(r"Обход \d+", m["text"])) for m in messages)
            assert listed == size, (team, listed, [m["text"] for m in messages])

        # What a Russian reader checks: the number and the noun's form.
        for size in (1, 3, 5, 11):
            [header] = headers[size]
            assert header == texts.render("ru", "escalation.header", count=size)
            assert re.match(rf"{RUSSIAN[size]}\b", header), header
        # 21 items come as two messages (at most 15 items each, for Telegram's 100 buttons), so
        # no escalation header counts 21: the catalogue's form for it is checked on its own.
        assert headers[21] == [texts.render("ru", "escalation.header", count=n) for n in (15, 6)]
        for n, header in zip((15, 6), headers[21], strict=True):
            assert re.match(rf"{RUSSIAN[n]}\b", header), header
        assert re.match(rf"{RUSSIAN[21]}\b", texts.render("ru", "escalation.header", count=21))


async def test_twenty_one_in_russian_through_the_dead_report(
    tmp_path: Path, template_db: Path
) -> None:
    """21 through a real path: 21 nudges Telegram refuses for good (21 packers blocked the bot)
    reach the Russian-speaking admin as one report, "21 сообщение" (CLDR's "one", as for 1)."""
    admin, packers = 7400, [7401 + n for n in range(21)]
    org = [
        '[[units]]\nkey = "plant"\nname = "Plant"\nkind = "plant"\n',
        '[[people]]\nkey = "admin"\nname = "Татьяна Белова"\nunit = "plant"\n'
        'post = "admin"\nlanguage = "ru"\n',
        '[[duties]]\nkey = "pack"\ntitle = "Упаковка"\npost = "packer"\nunit = "plant"\n'
        'nudge = "07:00"\ndue = "09:00"\n',
    ]
    org += [
        f'[[people]]\nkey = "p{n}"\nname = "Упаковщик {n}"\nunit = "plant"\npost = "packer"\n'
        'language = "ru"\n'
        for n in range(21)
    ]
    config = CONFIG + '[access]\nadmins = ["admin"]\n'
    async with harness(tmp_path, template_db, START, config_extra=config) as h:
        h.import_org("\n".join(org))
        await h.bind({"admin": admin} | {f"p{n}": chat for n, chat in enumerate(packers)})
        for chat in packers:
            await h.people.block(chat)
        await h.start_bot()
        await h.run_pass("plan", "nudges")

        async def given_up() -> bool:
            with h.session() as session:
                dead = session.exec(select(Outbox).where(Outbox.state == "dead")).all()
            return len(dead) == 21

        await h.until("21 nudges given up", given_up)
        await h.run_pass("dead")
        report = (await h.message(admin, "^⚠️"))["text"]
        expected = texts.render("ru", "delivery.dead_report", count=21, lines="")
        assert report.splitlines()[0] == expected.splitlines()[0], report
        assert re.match(r"⚠️ 21 сообщение\b", report), report

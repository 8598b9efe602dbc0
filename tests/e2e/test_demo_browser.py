"""``execbot demo`` in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright's Python package, against the demo exactly as a person starts it.

Anna Weber (furnace operator) taps Done on one duty and Blocked (then a reason) on another,
answers the note question through a reply, asks /today; Tobias Wagner (her team leader) sees
an unread badge, sends the photo his safety walk needs and then the block reaches him. Then
the plant's other languages: Иван Петров (a Russian molder, Russian from his Telegram app)
reads his greeting and nudge in Russian and taps Done; 王芳 (the assembly workshop's head,
Chinese in the org file) reads hers in Chinese. On both chats the page is checked to draw
every Cyrillic and Chinese letter with a real glyph, not a missing-glyph box (``glyphs``).
Every step is asserted on the page. Where Chromium, Playwright or a font with Chinese glyphs
is missing the browser test is skipped with the reason. ``EXECBOT_UPDATE_SCREENSHOT=1`` also
writes ``docs/chat-page.png`` (the team leader's chat) and ``docs/chat-page-languages.png``
(the Russian molder's chat).

The demo plant itself (times, the absence, the never-joined person, the config) is checked
without a browser.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import config
from bot import demo_setup as demo
from bot.render import texts
from models.language import match
from models.org import parse_toml
from sandbox.state import DEFAULT_TOKEN
from tests.e2e.harness import EXECBOT, clean_env, free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "chat-page.png"
LANGUAGES_SCREENSHOT = ROOT / "docs" / "chat-page-languages.png"
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
NUDGE_WAIT = 150_000  # ms: the first nudges come one virtual (= real) minute after start
STEP = 30_000  # ms: one reply round trip, generous for a slow CI machine
LEADER_WAIT = 60_000  # ms: how long the block notice may take to reach the team leader


def photo_png(width: int = 320, height: int = 200) -> bytes:
    """A small "photo" (an exit sign over a floor, in gradients) as a valid RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            sign = 110 <= x < 210 and 40 <= y < 90
            if sign:
                pixel = (20, 150, 70) if not (130 <= x < 190 and 58 <= y < 72) else (240, 250, 240)
            elif y < height * 0.6:
                pixel = (200 - y // 3, 205 - y // 4, 210 - y // 5)
            else:
                pixel = (120 + (x // 8) % 2 * 20, 110, 95)
            row += bytes(pixel)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


# --- the demo plant, no browser needed ----------------------------------------------------------


def demo_spec(today: date) -> Any:
    import tomllib

    text = demo.render_org(demo.TEMPLATE.read_text("utf-8"), today)
    spec = parse_toml(tomllib.loads(text), "demo_plant.toml")
    assert spec.problems == []
    return spec


def test_the_demo_plant_fits_in_five_minutes() -> None:
    today = date(2026, 11, 28)  # a Saturday: the demo's duties run every day
    spec = demo_spec(today)
    start = demo.clock_start(today, demo.first_nudge(spec))
    assert start.isoformat() == "2026-11-28T05:59:00+01:00"
    first = start + demo.LEAD_TIME
    for duty in spec.duties:
        assert duty.schedule == "daily", duty.key
        nudge = datetime.combine(today, datetime.strptime(duty.nudge_time, "%H:%M").time())
        due = datetime.combine(today, datetime.strptime(duty.due, "%H:%M").time())
        assert timedelta(0) <= nudge - first.replace(tzinfo=None) <= timedelta(minutes=3)
        assert due - first.replace(tzinfo=None) <= timedelta(minutes=5), duty.key
        assert due > nudge
    assert [d.key for d in spec.duties if d.evidence == "photo"] == ["casting-safety-walk"]
    kinds = {u.kind for u in spec.units}
    assert kinds == {"plant", "workshop", "team"}
    assert sum(u.kind == "workshop" for u in spec.units) == 2
    assert sum(u.kind == "team" for u in spec.units) == 3
    assert 10 <= len(spec.people) <= 15
    assert [(a.person, a.start, a.end) for a in spec.absences] == [("p.schulz", today, today)]


def test_everyone_but_the_never_joined_person_gets_a_sandbox_account() -> None:
    today = date(2026, 11, 24)
    members = demo.members_of(demo_spec(today), today)
    keys = [m.key for m in members]
    assert "s.lang" not in keys and len(keys) == 12
    assert len({m.sandbox_id for m in members}) == 12
    by_key = {m.key: m for m in members}
    assert by_key["t.wagner"].bio == "Team leader, Furnace team"
    assert by_key["p.schulz"].bio == "Furnace operator, Furnace team (away today)"
    # What each Telegram app sends as language_code at /start.
    assert by_key["i.petrov"].language_code == "ru"
    assert by_key["w.fang"].language_code == "zh-hans"
    assert by_key["h.braun"].language_code == "de"
    assert by_key["a.weber"].language_code == "en"


def test_the_demo_plant_has_people_in_every_language() -> None:
    import tomllib

    today = date(2026, 11, 24)
    spec = demo_spec(today)
    raw = tomllib.loads(demo.render_org(demo.TEMPLATE.read_text("utf-8"), today))
    in_org = {p["key"]: p.get("language") for p in raw["people"]}
    # The Russian team has no language in the org file (execbot takes Telegram's); the heads do.
    assert in_org["i.petrov"] is None and in_org["e.sokolova"] is None
    assert in_org["w.fang"] == "zh-Hans" and in_org["h.braun"] == "de"
    spoken: dict[str, list[str]] = {}
    for member in demo.members_of(spec, today):
        lang = match(in_org[member.key] or member.language_code, texts.languages())
        assert lang is not None, member
        spoken.setdefault(lang, []).append(member.name)
    assert sorted(spoken) == ["de", "en", "ru", "zh-Hans"], "a catalogue is missing"
    assert spoken["ru"] == ["Елена Соколова", "Иван Петров", "Ольга Смирнова"]
    assert spoken["zh-Hans"] == ["王芳"] and spoken["de"] == ["Hanna Braun"]
    units = {u.key: u for u in spec.units}
    assert units["molding"].leader == "e.sokolova"  # a Russian team under a German head
    assert units["casting"].leader == "h.braun" and units["assembly"].leader == "w.fang"


@pytest.mark.parametrize("with_escalation", [True, False])
def test_the_demo_config_is_a_valid_config(tmp_path: Path, with_escalation: bool) -> None:
    if with_escalation and not demo.escalation_known():
        pytest.skip("this execbot's config has no [escalation] section yet")
    path = tmp_path / "demo-config.toml"
    path.write_text(demo.config_text("http://127.0.0.1:8080", "sqlite:///x.db", with_escalation))
    settings = config.load(path)
    assert settings.nudges.tick == timedelta(seconds=1)
    assert settings.nudges.plan_every == timedelta(seconds=30)
    assert settings.telegram.api_base_url == "http://127.0.0.1:8080/bot"
    assert settings.telegram.bot_username == "execbot_sandbox_bot"


# --- the demo in a browser -----------------------------------------------------------------------


def chromium() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (.venv/bin/pip install playwright)")
    for path in (os.environ.get("EXECBOT_CHROMIUM", ""), *CHROMIUM_PATHS):
        if path and Path(path).is_file():
            return path
    found = shutil.which("chromium")
    if found:
        return found
    pytest.skip("Chromium is not installed (as root: apt-get install -y chromium)")


def chinese_font() -> None:
    """Skip unless fontconfig knows a font with Chinese glyphs (Chromium finds fonts there)."""
    listed = (
        subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
        )
        if shutil.which("fc-list")
        else None
    )
    if listed is None or not listed.stdout.strip():
        pytest.skip("no font with Chinese glyphs (as root: apt-get install -y fonts-wqy-microhei)")


class Demo:
    """``execbot demo`` as a subprocess, with its printed output."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.out = root / "demo.out"
        self.popen = subprocess.Popen(
            [EXECBOT, "demo", "--port", str(self.port), "--dir", str(root / "demo")],
            cwd=root,
            env=clean_env(),
            stdout=self.out.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.log = root / "demo" / "demo-bot.log"

    def output(self) -> str:
        return self.out.read_text("utf-8", "replace")

    def wait_started(self, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while "Ctrl+C to stop." not in self.output():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the demo did not start:\n{self.diagnostics()}")
            time.sleep(0.2)
        return self.output()

    def diagnostics(self) -> str:
        bot = self.log.read_text("utf-8", "replace") if self.log.exists() else ""
        tail = "\n".join(bot.splitlines()[-30:])
        return f"--- demo output ---\n{self.output()}\n--- bot log ---\n{tail}"

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)  # what Ctrl+C sends
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return int(self.popen.returncode)


@pytest.fixture
def running_demo(tmp_path: Path) -> Iterator[Demo]:
    chromium()  # skip before starting anything
    chinese_font()
    running = Demo(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_the_demo_in_a_browser(running_demo: Demo, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    printed = running_demo.wait_started()
    url = f"http://127.0.0.1:{running_demo.port}"
    assert f"Open {url}/ in your browser." in printed
    assert "12 people joined through their invite links" in printed
    assert "Paul Schulz is away today (sick)" in printed
    assert re.search(r"Sara Lang has not joined yet \(invite link: https://t\.me/", printed)

    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            leader_missed = run_the_story(page, url, expect, tmp_path)
            check_languages(page, expect, tmp_path)
            check_polling_and_text(browser, url, expect)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(running_demo.diagnostics())
            raise
        finally:
            browser.close()
        assert errors == []

    assert running_demo.stop() == 0
    output = running_demo.output()
    assert output.rstrip().endswith("execbot demo stopped.")
    assert "stopped unexpectedly" not in output
    if leader_missed:
        pytest.xfail(leader_missed)


def check_polling_and_text(browser: Any, url: str, expect: Any) -> None:
    """A browser without EventSource gets live updates by long polling; typed markup stays
    text; the bot's entities (HTML parse mode) are drawn."""
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.add_init_script("delete window.EventSource;")
    page.goto(url + "/")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "polling")
    person(page, "Nina Kraus").click()
    expect(page.get_by_test_id("chat-title")).to_have_text("Nina Kraus")
    box = page.get_by_test_id("message-input")
    box.fill("/help")
    page.get_by_test_id("send-button").click()
    expect(message(page, "What you can do:")).to_be_visible(timeout=STEP)

    markup = '<img src=x onerror="window.injected=1"><b>not bold</b>'
    box.fill(markup)
    box.press("Enter")
    typed = message(page, "not bold")
    expect(typed.get_by_test_id("message-text")).to_have_text(markup)
    assert typed.locator("img, b").count() == 0
    assert page.evaluate("window.injected") is None

    nina = page.get_by_test_id("person-item").filter(has_text="Nina Kraus")
    nina_id = nina.get_attribute("data-person-id")
    sent = httpx.post(
        f"{url}/bot{DEFAULT_TOKEN}/sendMessage",
        data={
            "chat_id": nina_id,
            "parse_mode": "HTML",
            "text": '<b>Bold</b> and <i>italic</i>\n<a href="https://example.com/x">a link</a>',
        },
    )
    assert sent.json()["ok"], sent.text
    rich = message(page, "Bold and italic")
    expect(rich.locator("strong")).to_have_text("Bold", timeout=STEP)
    expect(rich.locator("em")).to_have_text("italic")
    expect(rich.locator('a[href="https://example.com/x"]')).to_have_text("a link")
    page.close()


def person(page: Any, name: str) -> Any:
    return page.get_by_test_id("person-item").filter(has_text=name)


def message(page: Any, text: str) -> Any:
    return page.get_by_test_id("message").filter(has_text=text).last


def first_message(page: Any, text: str) -> Any:
    return page.get_by_test_id("message").filter(has_text=text).first


def run_the_story(page: Any, url: str, expect: Any, tmp_path: Path) -> str | None:
    """The worker's and the leader's steps; returns why the leader part could not be checked
    (no block notice arrived: escalation missing), or None when it was."""
    page.goto(url + "/")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("person-item")).to_have_count(12)
    expect(person(page, "Sara Lang")).to_have_count(0)  # she never joined

    # The worker: onboarding shows, then her nudge arrives live.
    person(page, "Anna Weber").click()
    expect(page.get_by_test_id("chat-title")).to_have_text("Anna Weber")
    expect(page.get_by_test_id("chat-subtitle")).to_contain_text("Furnace operator, Furnace team")
    expect(message(page, "Hello, Anna Weber!")).to_be_visible()
    expect(message(page, "/start ")).to_have_attribute("data-from", "person")
    nudge = message(page, "your duties for")
    expect(nudge).to_be_visible(timeout=NUDGE_WAIT)
    expect(nudge).to_contain_text("1. Record furnace temperatures, zones 1-4")
    expect(nudge).to_contain_text("2. Check the furnace gas valves and emergency stop")
    expect(nudge.get_by_test_id("inline-button")).to_have_count(6)
    # One clock: the page stamps the nudge with the bot's (plant) time, and says time runs fast.
    expect(nudge.locator("time")).to_have_text(re.compile(r"^06:00"))
    expect(page.get_by_test_id("demo-clock")).to_contain_text("Time runs fast")
    expect(page.get_by_test_id("demo-clock")).to_contain_text(re.compile(r"Demo clock 06:0"))

    # Done on duty 1: a toast, and the nudge is edited in place.
    nudge.get_by_role("button", name="1 ✅ Done").click()
    toast = page.get_by_test_id("toast")
    expect(toast).to_have_text(
        "Recorded: 1. Record furnace temperatures, zones 1-4 is done.", timeout=STEP
    )
    expect(nudge).to_contain_text("— ✅ done", timeout=STEP)
    expect(nudge.get_by_test_id("edited")).to_be_visible()

    # Blocked on duty 2, then a reason.
    nudge.get_by_role("button", name="2 ⛔ Blocked").click()
    ask = message(page, "Why is 2. Check the furnace gas valves and emergency stop blocked?")
    expect(ask).to_be_visible(timeout=STEP)
    ask.get_by_role("button", name="Materials or tools").click()
    expect(toast).to_have_text(
        "Recorded: 2. Check the furnace gas valves and emergency stop is blocked "
        "(Materials or tools).",
        timeout=STEP,
    )
    expect(nudge).to_contain_text("— ⛔ blocked", timeout=STEP)

    # The note, as a reply to the bot's question, typed in the text box.
    note_ask = message(page, "Add a short note")
    expect(note_ask).to_be_visible(timeout=STEP)
    note_ask.hover()
    note_ask.get_by_test_id("reply-button").click()
    expect(page.get_by_test_id("reply-bar")).to_be_visible()
    box = page.get_by_test_id("message-input")
    box.fill("the spare valve seal is missing")
    page.get_by_test_id("send-button").click()
    mine = message(page, "the spare valve seal is missing")
    expect(mine).to_have_attribute("data-from", "person")
    expect(mine.get_by_test_id("reply-quote-in-message")).to_contain_text("Add a short note")
    expect(message(page, "Note added to 2.")).to_be_visible(timeout=STEP)

    # A typed command.
    box.fill("/today")
    box.press("Enter")
    today = message(page, "Your duties today")
    expect(today).to_be_visible(timeout=STEP)
    expect(today).to_contain_text("done")
    page.screenshot(path=str(tmp_path / "worker.png"))

    # The team leader: an unread badge, his own photo duty, then the block notice.
    leader = person(page, "Tobias Wagner")
    expect(leader.get_by_test_id("unread-badge")).to_be_visible(timeout=NUDGE_WAIT)
    leader.click()
    expect(page.get_by_test_id("chat-title")).to_have_text("Tobias Wagner")
    expect(leader.get_by_test_id("unread-badge")).to_have_count(0)
    walk = message(page, "Safety walk of the casting hall")
    expect(walk).to_be_visible(timeout=NUDGE_WAIT)
    walk.get_by_role("button", name="1 ✅ Done").click()
    expect(message(page, "Send a photo as evidence for 1.")).to_be_visible(timeout=STEP)
    page.get_by_test_id("upload-input").set_input_files(
        {"name": "main-exit.png", "mimeType": "image/png", "buffer": photo_png()}
    )
    photo = page.get_by_test_id("message-photo").last
    expect(photo).to_be_visible(timeout=STEP)
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(message(page, "Recorded: 1. Safety walk of the casting hall is done.")).to_be_visible(
        timeout=STEP
    )

    notice = message(page, "Check the furnace gas valves and emergency stop")
    try:
        expect(notice).to_be_visible(timeout=LEADER_WAIT)
    except AssertionError:
        page.screenshot(path=str(tmp_path / "leader.png"))
        return (
            "no message about the blocked duty reached the team leader within "
            f"{LEADER_WAIT // 1000}s: the escalation engine has not landed (or is off)"
        )
    expect(notice).to_contain_text("Anna Weber")
    expect(page.get_by_test_id("toast")).to_be_hidden(timeout=STEP)
    page.screenshot(path=str(tmp_path / "leader.png"))
    if os.environ.get("EXECBOT_UPDATE_SCREENSHOT") == "1":
        shutil.copy(tmp_path / "leader.png", SCREENSHOT)
    return None


# --- the plant's other languages -----------------------------------------------------------------

# Draws each character alone on a canvas in the element's own font (the page's font stack, with
# the browser's fallback as for the page's text) and returns each one's pixels. A character no
# font has comes out as the same missing-glyph box (or nothing) as any other such character.
DRAW_EACH = """(el, chars) => {
  const style = getComputedStyle(el);
  const canvas = document.createElement("canvas");
  canvas.width = 48; canvas.height = 48;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  return chars.map((ch) => {
    ctx.clearRect(0, 0, 48, 48);
    ctx.font = `32px ${style.fontFamily}`;
    ctx.textBaseline = "top";
    ctx.fillText(ch, 4, 4);
    const alpha = ctx.getImageData(0, 0, 48, 48).data.filter((_, i) => i % 4 === 3);
    return Array.from(alpha).join(",");
  });
}"""
UNASSIGNED = ["\u0378", "\u0379", "\u0380", "\u0381"]  # no glyph in any font


def glyphs(element: Any, text: str, script: str) -> list[str]:
    """The distinct letters of ``script`` (a regex class) in ``text``, after checking that the
    page draws each with a real glyph in ``element``'s font: every letter's pixels differ from
    every other's and from a missing glyph's. Checked against a control: unassigned code points
    must all come out alike (else this check could not tell)."""
    letters = sorted(set(re.findall(script, text)))
    assert len(letters) >= 2, f"too few {script} letters in {text!r}"
    missing = element.evaluate(DRAW_EACH, UNASSIGNED)
    assert len(set(missing)) == 1, "the control failed: unassigned code points drew differently"
    drawn = element.evaluate(DRAW_EACH, letters)
    blank = "0," * (48 * 48 - 1) + "0"
    shown = {letter: bits for letter, bits in zip(letters, drawn, strict=True)}
    boxes = [letter for letter, bits in shown.items() if bits in (missing[0], blank)]
    assert not boxes, f"drawn as a missing glyph or not at all: {boxes}"
    assert len(set(drawn)) == len(letters), "some letters drew the same (missing-glyph boxes)"
    return letters


CYRILLIC = r"[\u0400-\u04ff]"
HAN = r"[\u4e00-\u9fff]"


def check_languages(page: Any, expect: Any, tmp_path: Path) -> None:
    """A Russian worker's and a Chinese head's chats: their texts in their languages (as the
    catalogues have them), every letter drawn by the page with a real glyph."""
    plant = demo.PLANT_NAME

    # Иван Петров: no language in the org file; his Telegram app sends "ru".
    ivan = "Иван Петров"
    person(page, ivan).click()
    expect(page.get_by_test_id("chat-title")).to_have_text(ivan)
    greeting = texts.render("ru", "start.greeting", name=ivan, plant=plant).splitlines()[0]
    assert re.search(CYRILLIC, greeting.replace(ivan, "")), f"not Russian: {greeting!r}"
    expect(message(page, greeting)).to_be_visible(timeout=STEP)
    title = "Проверить износ форм на формовочной линии M2"
    nudge = first_message(page, title)  # its reminder, later, names the duty too
    expect(nudge).to_be_visible(timeout=NUDGE_WAIT)
    done = texts.render("ru", "nudge.button_done", number=1)
    assert done != texts.render("en", "nudge.button_done", number=1), "no Russian catalogue"
    nudge.get_by_role("button", name=done).click()
    recorded = texts.render("ru", "reply.recorded_done", number=1, title=title)
    expect(page.get_by_test_id("toast")).to_have_text(recorded, timeout=STEP)
    expect(nudge).to_contain_text(texts.render("ru", "status.done"), timeout=STEP)
    expect(page.get_by_test_id("toast")).to_be_hidden(timeout=STEP)
    text = nudge.get_by_test_id("message-text")
    glyphs(text, text.inner_text() + greeting, CYRILLIC)
    glyphs(page.get_by_test_id("chat-title"), ivan, CYRILLIC)
    page.screenshot(path=str(tmp_path / "russian.png"))

    # 王芳: Simplified Chinese from the org file.
    wang = "王芳"
    person(page, wang).click()
    expect(page.get_by_test_id("chat-title")).to_have_text(wang)
    greeting = texts.render("zh-Hans", "start.greeting", name=wang, plant=plant).splitlines()[0]
    assert re.search(HAN, greeting.replace(wang, "")), f"not Chinese: {greeting!r}"
    expect(message(page, greeting)).to_be_visible(timeout=STEP)
    nudge = first_message(page, "检查装配车间的灭火器")
    expect(nudge).to_be_visible(timeout=NUDGE_WAIT)
    done = texts.render("zh-Hans", "nudge.button_done", number=1)
    expect(nudge.get_by_role("button", name=done)).to_be_visible()
    text = nudge.get_by_test_id("message-text")
    glyphs(text, text.inner_text() + greeting, HAN)
    button = nudge.get_by_role("button", name=done)
    glyphs(button, button.inner_text() + text.inner_text(), HAN)
    # The people column, as the page shows it: Russian and Chinese names among the others.
    people = page.get_by_test_id("people")
    assert {"Елена Соколова", "Иван Петров", "Ольга Смирнова", wang} <= set(
        people.get_by_test_id("person-name").all_inner_texts()
    )
    glyphs(people, people.inner_text(), CYRILLIC)
    glyphs(people, people.inner_text(), HAN)
    page.screenshot(path=str(tmp_path / "chinese.png"))
    if os.environ.get("EXECBOT_UPDATE_SCREENSHOT") == "1":
        person(page, ivan).click()
        expect(page.get_by_test_id("chat-title")).to_have_text(ivan)
        page.screenshot(path=str(LANGUAGES_SCREENSHOT))

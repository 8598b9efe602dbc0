"""The forged and malformed inputs of tests/adapters/test_forged_input.py, generated from a
seeded ``random.Random``: taps with callback data the sender may not use, and messages (wrong
numbers and times, oversized and odd text, unknown commands, junk invite codes, files nobody
asked for), and the order they are sent in."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.client import AsyncSandboxClient

W1, W2, STRANGER = 901, 902, 903
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@dataclass(frozen=True)
class Tap:
    kind: str
    who: int
    data: str  # sent from the sender's own chat: on their nudge, or the stranger's refusal


@dataclass(frozen=True)
class Message:
    kind: str
    who: int
    send: Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Sent:
    kind: str
    who: int
    callback_id: str | None = None  # for taps
    data: str = ""


def button_data(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in message["buttons"] for b in row]


def occurrence_ids(message: dict[str, Any]) -> list[int]:
    return sorted({int(d.rsplit(":", 1)[1]) for d in button_data(message)})


def junk(rng: random.Random, size: int) -> str:
    """Printable ASCII and a few multi-byte characters, at most ``size`` UTF-8 bytes."""
    alphabet = [chr(c) for c in range(33, 127)] + list("éß€✅⛔🕒\u202e\u200bｄ١")
    text = ""
    while True:
        char = rng.choice(alphabet)
        if len((text + char).encode()) > size:
            return text or "x"
        text += char


def forged_taps(
    rng: random.Random, w1_ids: list[int], w2_ids: list[int], missing: int
) -> list[Tap]:
    """Callback data the sender may not use: others' items, missing ids, bad shapes."""
    taps: list[Tap] = []
    nudge_data = {
        W1: [f"r:{a}:{i}" for i in w1_ids for a in "dbl"],
        W2: [f"r:{a}:{i}" for i in w2_ids for a in "dbl"],
    }
    follow_ups = ["c:w:", "c:m:", "c:h:", "c:o:", "t:1h:", "t:2h:", "t:es:", "t:tm:", "k:s:"]
    leader = ["e:a:", "e:x:", "e:n:", "e:r:", "e:s:", "e:p1:", f"e:p{rng.randint(2, 9)}:"]
    # The wrong person: the other worker's real nudge buttons, sent from one's own chat.
    for owner, other in [(W1, W2), (W2, W1)]:
        for data in nudge_data[owner]:
            taps.append(Tap("wrong person: the other worker's nudge button", other, data))
            taps.append(Tap("wrong person: a stranger sends a nudge button", STRANGER, data))
    # Follow-up buttons (category, later time, skip note) and leader actions on others' items.
    for prefix in follow_ups + leader:
        kind = "others' item: follow-up or leader button"
        taps.append(Tap(kind, W2, prefix + str(rng.choice(w1_ids))))
        taps.append(Tap(kind, W1, prefix + str(w2_ids[0])))
        taps.append(Tap(kind, STRANGER, prefix + str(rng.choice(w1_ids))))
    # A worker acting as their own leader.
    for prefix in leader:
        taps.append(Tap("own item: leader action", W1, prefix + str(rng.choice(w1_ids))))
    # Ids that do not exist, or cannot.
    for prefix in ["r:d:", "r:b:", "r:l:", "c:m:", "t:tm:", "k:s:", "e:a:"]:
        taps.append(Tap("missing id", W1, prefix + str(missing + rng.randint(0, 50))))
    for number in ["999999999999", "9" * 13, "18446744073709551616", "2147483648", "-1", "0"]:
        taps.append(Tap("huge or impossible id", rng.choice([W1, W2]), f"r:d:{number}"))
    # Wrong shapes around one's own real id: none of these may be read as a button.
    own = w1_ids[0]
    shapes = [
        f"x:d:{own}", f"R:d:{own}", f"r:D:{own}", f"rr:d:{own}", f":d:{own}", f"r::{own}",
        "r:d:", "r:d", "r", ":", "::", f"r:d:{own}:", f"r:d:{own} ", f" r:d:{own}",
        f"r:d:{own}\n", f"r:d:{own}\x00", f"r:d:+{own}", f"r:d:{own}.0", f"r:zz:{own}",
        f"c:x:{own}", f"t:3h:{own}", f"k:x:{own}", f"e:{own}", f"e:q:{own}", f"e:p:{own}",
        f"r:d:{own}?", f"r:d:0x{own:x}", f"r:d:{own}e0", "r:d:١", "r:d:１",
    ]  # fmt: skip
    taps += [Tap("wrong shape", W1, data) for data in shapes]
    sql = [
        "r:d:1 OR 1=1", "r:d:1; DROP TABLE reply;--", "' OR '1'='1", "r:d:1' --",
        "r:d:(SELECT 1)", "c:w:1 UNION SELECT * FROM person", "%s%s%s%n", "{0}{1}",
        "r:d:{id}", '{"action": "done", "id": 1}', "<script>alert(1)</script>", "../../../etc",
    ]  # fmt: skip
    taps += [Tap("SQL-ish or format string", rng.choice([W1, W2, STRANGER]), d) for d in sql]
    for _ in range(12):
        taps.append(Tap("64-byte junk", rng.choice([W1, W2, STRANGER]), junk(rng, 64)))
    for _ in range(6):
        size = rng.randint(1, 8)
        taps.append(Tap("short junk", rng.choice([W1, W2, STRANGER]), junk(rng, size)))
    return taps


def messages(rng: random.Random, c: AsyncSandboxClient) -> list[Message]:
    """Wrong numbers and times, oversized or odd text, unknown commands, junk invite codes,
    files nobody asked for. W1 has items 1-3 and W2 item 1: no text here names a number and
    a valid answer for its sender."""
    out: list[Message] = []

    def text(kind: str, who: int, body: str) -> None:
        out.append(Message(kind, who, lambda: c.send_text(who, body)))

    def command(kind: str, who: int, name: str, args: str = "") -> None:
        out.append(Message(kind, who, lambda: c.send_command(who, name, args)))

    def document(who: int, name: str) -> None:
        data = rng.randbytes(rng.randint(1, 3000))
        send = lambda: c.send_document(who, data, filename=name)  # noqa: E731
        out.append(Message("document nobody asked for", who, send))

    def photo(who: int, caption: str | None = None) -> None:
        send = lambda: c.send_photo(who, PNG, filename="p.png", caption=caption)  # noqa: E731
        out.append(Message("photo nobody asked for", who, send))

    wrong = [
        "done 99", "done 0", "done 4", "done 000", "blocked 9 waiting for parts",
        "later 1 25:99", "later 4 24:00", "later 1 +0h", "later 1 +9999999d",
        "later 1 yesterday", "later 1 15:30 16:00", "blocked", "done", "later", "done ²",
        "done 1²", "blocked ⑴ help", "done 1234", "done -1", "done 1; DROP TABLE reply",
        "done one", "later 1", "blocked 7 '); DROP TABLE reply;--", "done 0 9",
    ]  # fmt: skip
    for index, body in enumerate(wrong):
        text("typed reply with a wrong number or time", [W1, W2][index % 2], body)
    text("typed reply with a wrong number or time", W1, "later 2 +99999999999d")
    many = "done " + " ".join(str(n) for n in range(4, 400))  # 396 numbers nobody has
    text("typed reply naming hundreds of numbers", W1, many)
    text("typed reply naming hundreds of numbers", W2, many.replace("done", "blocked"))
    text("oversized text (4096 characters)", W1, ("done 1 " + "x" * 4096)[:4096])
    text("oversized text (4096 characters)", W2, "blocked 1 " + "y" * 4086)
    text("oversized text (4096 characters)", STRANGER, "done 1 " + "q" * 4089)
    text("oversized text (2001 characters)", W1, "done 1 " + "z" * 1994)
    odd = [
        "ｄｏｎｅ　１", "\u202edone 1", "done\u200b1", "✅ 1", "😀" * 500, "done\u00a0\u00a0",
        "\x00", "\u202e\u202d", "Done!", "DONE ALL", "1", "d o n e 1",
    ]  # fmt: skip
    for index, body in enumerate(odd):
        text("unicode or odd text", [W1, W2, STRANGER][index % 3], body)
    codes = ["AAAA", "A" * 64, "A" * 65, "' OR 1=1--", "../../etc/passwd", "🙂", "-_-_"]
    for who in [W1, W2, STRANGER]:
        for name, args in [("foo", ""), ("done", "1"), ("DROP", "TABLE reply")]:
            command("unknown command", who, name, args)
        for code in rng.sample(codes, 3):
            command("/start with a garbage code", who, "start", code)
    names = [
        "../../etc/passwd", "x" * 200 + ".pdf", "\u202egpj.exe", "con", ".htaccess",
        'evil";.sh', "名前.txt", "a/b\\c.txt", "report.pdf.exe",
    ]  # fmt: skip
    for index, name in enumerate(names):
        document([W1, W2, STRANGER][index % 3], name)
    photo(W1, "done 1")
    photo(W1)
    photo(W2, "evidence for 1")
    photo(STRANGER)
    return out


def schedule(rng: random.Random, taps: list[Tap], said: list[Message]) -> list[Tap | Message]:
    """The order of sending. Each message is answered by one message and the bot paces those
    at one per second and chat, so messages go round-robin over the chats; the shuffled taps
    (answered by a toast only) fill the gaps."""
    by_chat: dict[int, list[Message]] = {}
    for message in said:
        by_chat.setdefault(message.who, []).append(message)
    for queue in by_chat.values():
        rng.shuffle(queue)
    rounds: list[Message] = []
    while any(by_chat.values()):
        rounds += [by_chat[chat].pop() for chat in sorted(by_chat) if by_chat[chat]]
    pending = taps[:]
    rng.shuffle(pending)
    per_gap = len(pending) // len(rounds) + 1
    ordered: list[Tap | Message] = []
    for message in rounds:
        ordered.append(message)
        ordered += [pending.pop() for _ in range(min(per_gap, len(pending)))]
    return ordered + pending

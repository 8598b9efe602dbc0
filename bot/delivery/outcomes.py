"""What a reply or an action leads to: the answer to show, the messages to edit, a question to
ask. Services return these; handlers carry them out after the commit."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Edit:
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, object] | None


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str
    reply_markup: dict[str, object] | None = None
    force_reply: bool = False


@dataclass(slots=True)
class Outcome:
    """What to tell the person (a toast for a tap, a message for typed input), which nudge
    messages to edit, and a question to ask. ``recorded``: something was stored.
    ``wake_escalation``: what was stored has an escalation step due now (a block climbs at
    once), so the escalation pass should run now rather than at its next tick; a "done" or
    a "later" never sets it."""

    answer: str
    edits: list[Edit] = field(default_factory=list)
    prompt: Prompt | None = None
    recorded: bool = False
    wake_escalation: bool = False

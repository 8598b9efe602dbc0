"""One message per recipient per window: grouping pending notices (Alertmanager's group_wait).

Rules, for each recipient separately, notices in order of ``at`` (then item id):
- the first notice not yet in a group opens one, sent at its ``at`` + window; notices that come
  due up to that send time join it;
- an urgent notice, or a block's (a block needs a decision: it notifies at once), that joins
  sends the group at once: at that notice's ``at``, with the notices due up to then; later
  notices open the next group;
- a recipient hears about one subject (an item) at most once per window, and at least a
  ``REPEAT_GAP`` apart: a notice about a subject last told to the recipient at ``told`` (an
  earlier message, or an earlier group of the plan) is held until ``told`` + the larger of the
  window and the gap, and then goes at once; the message shows the item's latest state then;
- a group whose send time has passed (the bot was down, or the caller is late) goes out now
  with every notice due by now, so a backlog becomes one message, not several;
- window zero: no grouping, every notice is sent on its own at its ``at`` (notices about the
  same subject due by then go with it);
- an item pending twice for one recipient is listed once.

``plan_sends`` is a pure function of the pending set, the window, what each recipient was told
last and ``now``: calling it again with the same input plans the same sends. The caller sends
the due ones and removes their notices from the pending set.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import groupby

REPEAT_GAP = timedelta(minutes=1)
Told = Mapping[tuple[int, int], datetime]  # (recipient, subject) -> when last told


@dataclass(frozen=True, slots=True)
class PendingNotice:
    recipient_id: int
    item_id: int
    at: datetime  # when the notice came (or comes) due for delivery
    urgent: bool = False  # sends its group at once
    block: bool = False  # a block's notice: sends its group at once
    subject: int | None = None  # what it is about (an item); None: the notice itself

    @property
    def at_once(self) -> bool:
        return self.urgent or self.block


@dataclass(frozen=True, slots=True)
class Send:
    recipient_id: int
    send_at: datetime
    item_ids: tuple[int, ...]

    def is_due(self, now: datetime) -> bool:
        return self.send_at <= now


def plan_sends(
    pending: Iterable[PendingNotice], window: timedelta, now: datetime, told: Told | None = None
) -> list[Send]:
    """Every send the pending notices make, due or not, by send time then recipient.
    ``told``: when each recipient was last sent a message about a subject."""
    if window < timedelta(0):
        raise ValueError(f"group window: expected zero or more, got {window}")
    ordered = sorted(pending, key=lambda n: (n.recipient_id, n.at, n.item_id))
    sends: list[Send] = []
    for recipient_id, notices in groupby(ordered, key=lambda n: n.recipient_id):
        last = {s: at for (r, s), at in (told or {}).items() if r == recipient_id}
        sends.extend(_recipient_sends(recipient_id, list(notices), window, now, last))
    return sorted(sends, key=lambda s: (s.send_at, s.recipient_id))


def due_sends(
    pending: Iterable[PendingNotice], window: timedelta, now: datetime, told: Told | None = None
) -> list[Send]:
    """The sends to make now."""
    return [send for send in plan_sends(pending, window, now, told) if send.is_due(now)]


def _recipient_sends(
    recipient_id: int,
    notices: list[PendingNotice],
    window: timedelta,
    now: datetime,
    told: dict[int, datetime],
) -> list[Send]:
    gap = max(window, REPEAT_GAP)
    sends: list[Send] = []
    while notices:
        notices = sorted((_held(n, told, gap) for n in notices), key=lambda n: (n.at, n.item_id))
        first = notices[0]
        if not window:
            send_at = first.at
            cutoff = max(send_at, now)
            group = [first] + [
                n for n in notices[1:] if n.subject is not None and n.subject == first.subject
                and n.at <= cutoff
            ]  # fmt: skip
        else:
            send_at = first.at + window
            at_once = [n.at for n in notices if n.at_once and n.at <= send_at]
            if at_once:
                send_at = at_once[0]
            cutoff = max(send_at, now)
            group = [n for n in notices if n.at <= cutoff]
        ids = tuple(dict.fromkeys(n.item_id for n in group))
        sends.append(Send(recipient_id, send_at, ids))
        for n in group:
            if n.subject is not None:
                told[n.subject] = max(send_at, now)
        notices = [n for n in notices if n.item_id not in ids]
    return sends


def _held(notice: PendingNotice, told: dict[int, datetime], gap: timedelta) -> PendingNotice:
    """The notice held until a gap after its subject was last told, then going at once."""
    last = told.get(notice.subject) if notice.subject is not None else None
    if last is None or last + gap <= notice.at:
        return notice
    return replace(notice, at=last + gap, urgent=True)


@dataclass(frozen=True, slots=True)
class SentNotice:
    recipient_id: int
    kind: str  # remind | escalate | block | resolved
    queued: bool  # in a message already
    created_at: datetime


def told_since(notices: Iterable[SentNotice], since: datetime) -> list[int]:
    """The leaders already sent a message about an item since ``since`` (a block's instant):
    those a note added later must reach. Reminders (to the person) do not count."""
    return sorted(
        {
            n.recipient_id
            for n in notices
            if n.queued and n.kind in ("escalate", "block") and n.created_at >= since
        }
    )

"""One message per recipient per window: grouping pending notices (Alertmanager's group_wait).

Rules, for each recipient separately, notices in order of ``at`` (then item id):
- the first notice not yet in a group opens one, sent at its ``at`` + window; notices that come
  due up to that send time join it;
- an urgent notice that joins sends the group at once: at the urgent notice's ``at``, with the
  notices due up to then; later notices open the next group;
- a group whose send time has passed (the bot was down, or the caller is late) goes out now
  with every notice due by now, so a backlog becomes one message, not several;
- window zero: no grouping, every notice is sent on its own at its ``at``;
- an item pending twice for one recipient is listed once.

``plan_sends`` is a pure function of the pending set, the window and ``now``: calling it again
with the same pending notices plans the same sends. The caller sends the due ones and removes
their notices from the pending set.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby


@dataclass(frozen=True, slots=True)
class PendingNotice:
    recipient_id: int
    item_id: int
    at: datetime  # when the notice came (or comes) due for delivery
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Send:
    recipient_id: int
    send_at: datetime
    item_ids: tuple[int, ...]

    def is_due(self, now: datetime) -> bool:
        return self.send_at <= now


def plan_sends(pending: Iterable[PendingNotice], window: timedelta, now: datetime) -> list[Send]:
    """Every send the pending notices make, due or not, by send time then recipient."""
    if window < timedelta(0):
        raise ValueError(f"group window: expected zero or more, got {window}")
    ordered = sorted(pending, key=lambda n: (n.recipient_id, n.at, n.item_id))
    sends: list[Send] = []
    for recipient_id, notices in groupby(ordered, key=lambda n: n.recipient_id):
        sends.extend(_recipient_sends(recipient_id, list(notices), window, now))
    return sorted(sends, key=lambda s: (s.send_at, s.recipient_id))


def due_sends(pending: Iterable[PendingNotice], window: timedelta, now: datetime) -> list[Send]:
    """The sends to make now."""
    return [send for send in plan_sends(pending, window, now) if send.is_due(now)]


def _recipient_sends(
    recipient_id: int, notices: list[PendingNotice], window: timedelta, now: datetime
) -> list[Send]:
    if not window:
        return [Send(recipient_id, n.at, (n.item_id,)) for n in notices]
    sends: list[Send] = []
    start = 0
    while start < len(notices):
        first = notices[start]
        send_at = first.at + window
        urgent = [n.at for n in notices[start:] if n.urgent and n.at <= send_at]
        if urgent:
            send_at = urgent[0]
        cutoff = max(send_at, now)
        end = start + 1
        while end < len(notices) and notices[end].at <= cutoff:
            end += 1
        ids = tuple(dict.fromkeys(n.item_id for n in notices[start:end]))
        sends.append(Send(recipient_id, send_at, ids))
        start = end
    return sends

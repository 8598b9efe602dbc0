"""Pacing sends within Telegram's limits. Pure: the caller passes the monotonic time.

Two rules, both as sliding windows over the instants sends START:
- overall: at most ``rate`` sends in any ``window`` seconds (Telegram: about 30 per second);
- per chat: at least ``chat_interval`` seconds between two sends to one chat (about 1 per second).

A send is reserved at the earliest instant both rules allow, and sends are spread evenly
(one every ``(window + margin) / rate`` seconds) rather than in bursts of ``rate``, so a long
wave runs at the full rate without ever tripping the server's counters, whether the server
counts with a token bucket or a strict sliding window. ``margin`` widens both windows slightly, to
absorb jitter between our clock and the server's arrival times. A rate of 0 switches the
overall rule off (for a local server without limits).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class Pacer:
    rate: int = 30
    window: float = 1.0
    chat_interval: float = 1.0
    margin: float = 0.15
    _starts: deque[float] = field(default_factory=deque)
    _chat_next: dict[int, float] = field(default_factory=dict)
    _paused_until: float = 0.0
    _last_start: float = float("-inf")

    def chat_ready(self, chat_id: int) -> float:
        """The earliest instant the per-chat rule allows a send to ``chat_id``."""
        return self._chat_next.get(chat_id, 0.0)

    def overall_ready(self, now: float) -> float:
        """The earliest instant the overall rule (and any pause) allows the next send."""
        ready = max(now, self._paused_until)
        if self.rate <= 0:
            return ready
        span = self.window + self.margin
        while self._starts and self._starts[0] <= ready - span:
            self._starts.popleft()
        ready = max(ready, self._last_start + span / self.rate)  # evenly spaced, no bursts
        if len(self._starts) < self.rate:
            return ready
        return max(ready, self._starts[-self.rate] + span)

    def reserve(self, chat_id: int, now: float) -> float:
        """Book the next send to ``chat_id``: returns the instant it may start (>= now)."""
        at = max(self.overall_ready(now), self.chat_ready(chat_id))
        if self.rate > 0:
            self._starts.append(at)
            self._last_start = max(self._last_start, at)
        if self.chat_interval > 0:
            self._chat_next[chat_id] = at + self.chat_interval + self.margin
        return at

    def give_back(self, chat_id: int, at: float) -> None:
        """A turn booked for ``at`` was not used (it came late): free its slot in the window,
        and let the chat's next turn come from ``at`` (the chat rule allowed a send then and
        nothing went to the chat since), not one chat interval after the unused turn; unless
        a later turn of the chat was booked meanwhile, which keeps its interval."""
        if at in self._starts:
            self._starts.remove(at)
        booked_next = at + self.chat_interval + self.margin
        if self.chat_interval > 0 and self._chat_next.get(chat_id) == booked_next:
            self._chat_next[chat_id] = at  # no later turn of this chat was booked meanwhile

    def pause(self, until: float) -> None:
        """Hold every send until ``until`` (after the server answered 429 retry_after)."""
        self._paused_until = max(self._paused_until, until)

    def paused(self, now: float) -> bool:
        """Whether a pause (a 429) holds sends at ``now``: a send reserved before the pause
        came should be reserved again."""
        return now < self._paused_until

    def forget_idle_chats(self, now: float) -> None:
        """Drop per-chat entries that no longer constrain anything (bounded memory)."""
        self._chat_next = {chat: t for chat, t in self._chat_next.items() if t > now}

"""Flood control like Telegram's, with the exact rule written down.

Telegram's own words (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
"When sending messages inside a particular chat, avoid sending more than one message per
second. We may allow short bursts that go over this limit, but eventually you'll begin
receiving 429 errors. If you're sending bulk notifications to multiple users, the API will
not allow more than 30 messages per second or so. [...] Also note that your bot will not be
able to send more than 20 messages per minute to the same group."

The sandbox rule: three kinds of token bucket, each holding at most ``burst`` tokens, refilled
continuously at ``rate`` tokens per second, starting full.

* one bucket per chat: ``chat_rate`` = 1/s, ``chat_burst`` = 3;
* one more bucket per group chat: ``group_per_minute`` = 20/min, ``group_burst`` = 3;
* one bucket for the whole bot: ``global_rate`` = 30/s, ``global_burst`` = 30.

Which calls count: ``sendMessage``, ``sendPhoto`` and ``sendDocument`` take a token from the
chat bucket, from the group bucket when the chat is a group, and from the global bucket.
``editMessageText`` and ``editMessageReplyMarkup`` take a token from the chat and group
buckets only (an edit is traffic in that chat, not a new notification).  Nothing else counts.

A call is admitted when every bucket it needs holds at least one token (a tolerance of 1e-6
absorbs float rounding); then one token is taken from each.  Otherwise nothing is taken and
the answer is 429 "Too Many Requests: retry after N" where N = ceil(time until every
refusing bucket holds one token), at least 1.  So a client that paces at exactly 1 message
per second per chat and 30 per second overall never sees a 429: each pause refills exactly
the token it spent, and the burst absorbs timer jitter.  With the defaults a burst to one
chat is refused from its 4th message.

``answer_window`` (15 s) is not flood control: answerCallbackQuery later than this after the
tap is refused as Telegram refuses it ("query is too old ..."), whether limits are on or off
(:func:`sandbox.chats.answer_callback_query`).

Limits can be switched off at start (``--no-limits``) and switched or retuned at run time
(``POST /sandbox/limits``); changing them refills every bucket.

:class:`RateMeter` independently records the highest number of admitted counted calls seen in
any 1-second window, per chat and overall, whether or not limits are on.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class Limits:
    """Flood-control settings; see the module docstring for the rule."""

    enabled: bool = True
    chat_rate: float = 1.0
    chat_burst: float = 3.0
    group_per_minute: float = 20.0
    group_burst: float = 3.0
    global_rate: float = 30.0
    global_burst: float = 30.0
    answer_window: float = 15.0

    def updated(self, changes: dict[str, Any]) -> Limits:
        """A copy with ``changes`` applied; unknown keys or bad values raise ValueError."""
        known = {f.name for f in fields(self)}
        clean: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown limit {key!r}; known: {', '.join(sorted(known))}")
            if key == "enabled":
                if not isinstance(value, bool):
                    raise ValueError("enabled must be true or false")
                clean[key] = value
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"{key} must be a positive number")
            clean[key] = float(value)
        return replace(self, **clean)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Bucket:
    __slots__ = ("last", "tokens")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.last = now

    def refill(self, rate: float, burst: float, now: float) -> None:
        self.tokens = min(burst, self.tokens + (now - self.last) * rate)
        self.last = now


class RateLimiter:
    """Token buckets per chat, per group and per bot; see the module docstring."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._chats: dict[int, _Bucket] = {}
        self._groups: dict[int, _Bucket] = {}
        self._global = _Bucket(limits.global_burst, 0.0)

    def configure(self, limits: Limits) -> None:
        """Apply new settings; every bucket starts full again."""
        self.limits = limits
        self._chats.clear()
        self._groups.clear()
        self._global = _Bucket(limits.global_burst, 0.0)

    def admit(self, chat_id: int, is_group: bool, counts_globally: bool, now: float) -> int:
        """Take the tokens for one call; 0 when admitted, else the retry_after seconds."""
        limits = self.limits
        if not limits.enabled:
            return 0
        checks = [
            (
                _get(self._chats, chat_id, limits.chat_burst, now),
                limits.chat_rate,
                limits.chat_burst,
            )
        ]
        if is_group:
            group = _get(self._groups, chat_id, limits.group_burst, now)
            checks.append((group, limits.group_per_minute / 60.0, limits.group_burst))
        if counts_globally:
            checks.append((self._global, limits.global_rate, limits.global_burst))
        wait = 0.0
        for bucket, rate, burst in checks:
            bucket.refill(rate, burst, now)
            if bucket.tokens < 1.0 - _EPSILON:
                wait = max(wait, (1.0 - bucket.tokens) / rate)
        if wait > 0.0:
            return max(1, math.ceil(wait - _EPSILON))
        for bucket, _, _ in checks:
            bucket.tokens -= 1.0
        return 0


def _get(buckets: dict[int, _Bucket], key: int, burst: float, now: float) -> _Bucket:
    """The bucket for ``key``, created full."""
    bucket = buckets.get(key)
    if bucket is None:
        bucket = buckets[key] = _Bucket(burst, now)
    return bucket


class RateMeter:
    """Highest number of counted calls in any 1-second window, per chat and overall."""

    def __init__(self) -> None:
        self._chat_times: dict[int, deque[float]] = {}
        self._all_times: deque[float] = deque()
        self.peak_chat = 0
        self.peak_chat_id: int | None = None
        self.peak_overall = 0

    def record(self, chat_id: int, counts_globally: bool, now: float) -> None:
        horizon = now - 1.0
        times = self._chat_times.get(chat_id)
        if times is None:
            times = self._chat_times[chat_id] = deque()
        times.append(now)
        while times[0] <= horizon:
            times.popleft()
        if len(times) > self.peak_chat:
            self.peak_chat = len(times)
            self.peak_chat_id = chat_id
        if counts_globally:
            every = self._all_times
            every.append(now)
            while every[0] <= horizon:
                every.popleft()
            if len(every) > self.peak_overall:
                self.peak_overall = len(every)

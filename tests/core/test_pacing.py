"""The pacer keeps every sliding window within Telegram's limits (pure, simulated time)."""

from __future__ import annotations

from bisect import bisect_left
from itertools import pairwise

from models.pacing import Pacer


def max_in_window(starts: list[float], window: float) -> int:
    starts = sorted(starts)
    return max(bisect_left(starts, t + window) - i for i, t in enumerate(starts))


def test_wave_to_many_chats_runs_at_the_overall_rate() -> None:
    pacer = Pacer(rate=30, window=1.0, chat_interval=1.0, margin=0.02)
    starts = [pacer.reserve(chat, 0.0) for chat in range(3000)]
    assert max_in_window(starts, 1.0) <= 30
    throughput = 3000 / (max(starts) + 1.02)
    assert throughput > 0.95 * 30  # the full budget is used, with only the margin lost


def test_one_chat_gets_one_message_per_interval() -> None:
    pacer = Pacer(rate=30, chat_interval=1.0, margin=0.02)
    starts = [pacer.reserve(7, 0.0) for _ in range(5)]
    assert [round(b - a, 2) for a, b in pairwise(starts)] == [1.02] * 4


def test_other_chats_are_not_held_up_by_a_busy_one() -> None:
    pacer = Pacer(rate=30)
    pacer.reserve(1, 0.0)
    assert pacer.chat_ready(1) > 1.0
    assert pacer.reserve(2, 0.0) < 0.05  # the next even slot, not chat 1's next second


def test_pause_after_429_holds_everything() -> None:
    pacer = Pacer(rate=30)
    pacer.pause(5.0)
    assert pacer.reserve(1, 0.0) == 5.0


def test_rate_zero_switches_the_overall_limit_off() -> None:
    pacer = Pacer(rate=0, chat_interval=0.0)
    assert {pacer.reserve(chat, 3.0) for chat in range(1000)} == {3.0}


def test_idle_chats_are_forgotten() -> None:
    pacer = Pacer()
    pacer.reserve(1, 0.0)
    pacer.forget_idle_chats(10.0)
    assert pacer.chat_ready(1) == 0.0


def test_sends_are_spread_evenly_not_in_bursts() -> None:
    pacer = Pacer(rate=30, window=1.0, chat_interval=1.0, margin=0.02)
    starts = [pacer.reserve(chat, 0.0) for chat in range(300)]
    gaps = [b - a for a, b in pairwise(starts)]
    assert min(gaps) >= 1.02 / 30 - 1e-9
    assert max_in_window(starts, 0.5) <= 15  # half a window never holds more than half


def test_a_late_turn_given_back_frees_its_slot_and_its_chat() -> None:
    """The sender books again a turn that came late (a busy process); the unused booking must
    neither fill the window nor push the chat a whole chat interval away (that idled every
    send for 1.15 s)."""
    pacer = Pacer(rate=30, chat_interval=1.0, margin=0.15)
    at = pacer.reserve(1, 0.0)
    pacer.give_back(1, at)
    again = pacer.reserve(1, 0.3)  # the turn noticed 0.3 s late
    assert again < 0.35  # the next even slot, not 1.15 s after the unused turn
    starts = [again] + [pacer.reserve(chat, 0.3) for chat in range(2, 40)]
    assert max_in_window(starts, 1.15) <= 30
    assert len(pacer._starts) == len(starts)  # the unused booking holds no slot


def test_giving_back_keeps_a_later_turn_of_the_same_chat_apart() -> None:
    pacer = Pacer(rate=30, chat_interval=1.0, margin=0.15)
    first = pacer.reserve(1, 0.0)
    second = pacer.reserve(1, 0.0)  # booked meanwhile (a handler's edit to the chat)
    pacer.give_back(1, first)
    assert pacer.reserve(1, 0.3) >= second + 1.15

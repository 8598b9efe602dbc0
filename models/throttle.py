"""At most one of something per key per interval (a refusal per stranger per minute), in a
bounded amount of memory: the keys seen longest ago are forgotten first."""

from __future__ import annotations

from collections import OrderedDict


class Throttle:
    def __init__(self, interval: float, capacity: int) -> None:
        self.interval, self.capacity = interval, capacity
        self._last: OrderedDict[int, float] = OrderedDict()

    def allow(self, key: int, now: float) -> bool:
        """Whether ``key`` may have its thing at ``now`` (seconds); if so, it counts from now."""
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self.capacity:
            self._last.popitem(last=False)
        return True

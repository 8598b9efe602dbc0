"""Durations as the org file writes them: "90s", "15m", "2h", "1d" and combinations like "1h30m".

Rules:
- one or more parts of <whole number><unit>, units ``d`` (days), ``h``, ``m``, ``s``;
- each unit at most once, largest first ("1h30m", not "30m1h"); no spaces, signs or fractions;
- the total must be longer than zero and at most ``MAX_DURATION`` (366 days): no setting,
  due time or policy step needs more, and a bound keeps every instant computed from a
  duration inside the calendar (``+2950000d`` would overflow it).

``format_duration`` writes the same canonical form back, so
``format_duration(parse_duration("90m")) == "1h30m"``.
"""

import re
from datetime import timedelta

_EXPECTED = (
    "expected a whole number with a unit d, h, m or s, like '90s', '15m', '2h', '1d' or '1h30m'"
)
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
MAX_DURATION = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    """Parse "1h30m"-style text into a positive timedelta; ValueError names the expected form."""
    cleaned = text.strip().lower()
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None:
        raise ValueError(f"duration: {_EXPECTED}, got {text!r}")
    parts = zip(match.groups(), _UNITS, strict=True)
    seconds = sum(int(part or 0) * size for part, (_, size) in parts)
    if not seconds:
        raise ValueError(f"duration: must be longer than zero, got {text!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration: at most {format_duration(MAX_DURATION)}, got {text!r}")
    total = timedelta(seconds=seconds)
    return total


def format_duration(duration: timedelta) -> str:
    """Write a positive whole-second timedelta in the canonical form, e.g. ``1d2h30m``."""
    if duration <= timedelta(0) or duration.microseconds:
        raise ValueError(f"duration: can only write positive whole seconds, got {duration!r}")
    remaining = int(duration.total_seconds())
    parts = []
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)

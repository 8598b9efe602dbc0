"""Durations as the org file writes them: "90s", "15m", "2h", "1d" and combinations like "1h30m".

Rules:
- one or more parts of <whole number><unit>, units ``d`` (days), ``h``, ``m``, ``s``;
- each unit at most once, largest first ("1h30m", not "30m1h"); no spaces, signs or fractions;
- the total must be longer than zero.

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


def parse_duration(text: str) -> timedelta:
    """Parse "1h30m"-style text into a positive timedelta; ValueError names the expected form."""
    cleaned = text.strip().lower()
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None:
        raise ValueError(f"duration: {_EXPECTED}, got {text!r}")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not total:
        raise ValueError(f"duration: must be longer than zero, got {text!r}")
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

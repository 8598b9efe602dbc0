"""Telegram's bounds on one message, and fitting text inside them. Pure.

Rules:
- a message's text is at most ``TEXT_LIMIT`` (4,096) characters and its inline keyboard at most
  ``MAX_BUTTONS`` (100) buttons;
- ``cut`` shortens a text to a limit, ending it with ``MARK`` ("…") when anything was left out;
  a text within the limit stays whole;
- ``fit`` makes a header and its blocks (joined by newlines) fit a limit: when they are too
  long, only the longest blocks are cut, all to the same length, as little as needed, so the
  result is never longer than the limit (whatever the blocks hold).
"""

from collections.abc import Sequence

TEXT_LIMIT = 4096
MAX_BUTTONS = 100
MARK = "…"


def cut(text: str, limit: int) -> str:
    """``text``, or its first characters and the mark, in at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    if limit <= len(MARK):
        return MARK[:limit]
    return text[: limit - len(MARK)].rstrip() + MARK


def joined_length(header: str, blocks: Sequence[str]) -> int:
    """The length of ``header`` and ``blocks`` joined by newlines (no header: blocks only)."""
    parts = ([header] if header else []) + list(blocks)
    return sum(len(part) for part in parts) + max(len(parts) - 1, 0)


def fit(header: str, blocks: Sequence[str], limit: int = TEXT_LIMIT) -> list[str]:
    """The blocks, the longest cut to one common length so header and blocks fit ``limit``."""
    if joined_length(header, blocks) <= limit:
        return list(blocks)
    low, high = 0, max((len(block) for block in blocks), default=0)
    while low < high:  # the longest common cap that fits
        cap = (low + high + 1) // 2
        if joined_length(header, [cut(b, cap) for b in blocks]) <= limit:
            low = cap
        else:
            high = cap - 1
    return [cut(block, low) for block in blocks]

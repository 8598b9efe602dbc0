"""Which of execbot's languages a language tag means (pure: the languages are passed in).

Tags come from the org file, the HR CSV and Telegram's ``language_code`` (an IETF tag such as
``ru``, ``de-AT``, ``zh-hans`` or ``pt-br``). Case and ``_``/``-`` do not matter; a regional
variant means its language (``ru-RU`` -> ``ru``); Chinese without a script, or with a region that
writes Simplified (``zh``, ``zh-CN``, ``zh-SG``), means ``zh-Hans``; Traditional (``zh-Hant``,
``zh-TW``, ``zh-HK``, ``zh-MO``) means ``zh-Hant`` if execbot has it, else ``zh-Hans``.
"""

from __future__ import annotations

from collections.abc import Iterable

_TRADITIONAL = {"hant", "tw", "hk", "mo"}


def match(tag: str | None, available: Iterable[str]) -> str | None:
    """The available language ``tag`` means, or None if execbot does not speak it."""
    if not tag:
        return None
    known = {lang.lower(): lang for lang in available}
    parts = tag.strip().replace("_", "-").lower().split("-")
    if not parts[0]:
        return None
    whole = "-".join(parts)
    if whole in known:
        return known[whole]
    if parts[0] == "zh":
        if _TRADITIONAL & set(parts[1:]) and "zh-hant" in known:
            return known["zh-hant"]
        return known.get("zh-hans") or known.get("zh")
    return known.get(parts[0])

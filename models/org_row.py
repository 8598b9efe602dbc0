"""Reading the fields of one org-file row, recording problems instead of raising."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.org_spec import KEY_PATTERN, TIMEZONE_MAX, OrgProblem

T = TypeVar("T")

_BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class Row:
    """Reads fields of one row, recording problems instead of raising."""

    def __init__(self, source: str, row: str, data: Mapping[str, Any], problems: list[OrgProblem]):
        self.source, self.row, self.data, self.problems = source, row, data, problems

    def problem(self, field_name: str, message: str) -> None:
        self.problems.append(OrgProblem(self.source, self.row, field_name, message))

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        default: str | None = None,
        max_length: int | None = None,
    ) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(name, "required, but missing or empty")
            return default
        if not isinstance(value, str):
            self.problem(name, f"expected text, got {shown(value)}")
            return default
        value = value.strip()
        if max_length is not None and len(value) > max_length:
            self.problem(name, f"at most {max_length} characters, got {len(value)}")
            return default
        return value

    def key(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and not KEY_PATTERN.match(value):
            self.problem(
                name,
                f"{shown(value)} is not a valid key (letters, digits, '.', '_', '-'; up to 64)",
            )
            return None
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        self.problem(name, f"expected true or false, got {shown(value)}")
        return default

    def choice(self, name: str, options: Sequence[str], default: str) -> str:
        value = self.text(name, default=default) or default
        if value not in options:
            self.problem(name, f"expected one of {', '.join(options)}, got {shown(value)}")
            return default
        return value

    def timezone(self, name: str) -> str | None:
        value = self.text(name, max_length=TIMEZONE_MAX)
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self.problem(
                name, f"expected an IANA timezone such as 'Europe/Berlin', got {shown(value)}"
            )
            return None
        return value

    def parsed(self, name: str, parse: Callable[[Any], T], *, required: bool = False) -> T | None:
        """The field read by ``parse`` (a ``models`` parser whose ValueError becomes the
        problem). A missing field is None, and a problem if ``required``."""
        if name not in self.data:
            if required:
                self.problem(name, "required, but missing")
            return None
        try:
            return parse(self.data[name])
        except ValueError as error:
            self.problem(name, unprefixed(str(error), name))
            return None

    def unknown_fields(self, allowed: Iterable[str]) -> None:
        for name in sorted(set(self.data) - set(allowed)):
            self.problem(name, "unknown field")


def shown(value: object, limit: int = 60) -> str:
    """``value`` as repr, cut to ``limit`` characters so that a huge value stays readable."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-1]}"


def unprefixed(message: str, name: str) -> str:
    """A parser's message without its leading ``name:`` (the problem names the field)."""
    for prefix in (f"{name}: ", f"{name}."):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message

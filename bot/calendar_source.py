"""The plant's work calendar: config ``[calendar]`` plus public holidays from ``holidays``.

Rules:
- No ``country`` means no public holidays: only the weekend and the plant's own days off and
  extra working days count (``bot.services.calendar.work_calendar`` builds the calendar from
  the config and these holidays, with ``models.calendar.calendar_from_config``).
- Holidays are looked up for whole years, the years the caller asks for; a day outside them
  is never a holiday. A lookup is cached per (country, subdivision, years, language).
- Holiday names are in the plant's language where the package has it ("en" reads the
  package's "en_US"), else in the country's own language; never in the server's locale,
  which the package would otherwise follow.
- ``check_country`` and ``check_subdivision`` are the config loader's checks: a code the
  package does not know is a configuration error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import holidays


@lru_cache(maxsize=64)
def public_holidays(
    country: str, subdivision: str, years: tuple[int, ...], language: str
) -> Mapping[date, str]:
    entity = _entity(country, subdivision)
    names = _language(entity.supported_languages, entity.default_language, language)
    found = holidays.country_holidays(
        country, subdiv=subdivision or None, years=years, language=names
    )
    return MappingProxyType(dict(found))


def _language(supported: Iterable[str], default: str | None, wanted: str) -> str | None:
    """``wanted`` as the package spells it ("en" -> "en_US"), else the country's language."""
    return next(
        (code for code in supported if code == wanted or code.startswith(f"{wanted}_")),
        default,
    )


def _entity(country: str, subdivision: str = "") -> Any:
    return holidays.country_holidays(country, subdiv=subdivision or None)


def check_country(country: str) -> None:
    """ValueError unless the package knows ``country``."""
    try:
        _entity(country)
    except NotImplementedError:
        raise ValueError(
            f"unknown country {country!r} for public holidays (expected an ISO 3166 code "
            "such as 'DE', 'AT' or 'US', or \"\" for none)"
        ) from None


def check_subdivision(country: str, subdivision: str) -> None:
    """ValueError unless the package knows ``subdivision`` of (a known) ``country``."""
    try:
        _entity(country, subdivision)
    except NotImplementedError:
        known = ", ".join(_entity(country).subdivisions)
        expected = f"expected one of {known}" if known else "it has none; leave it empty"
        raise ValueError(f"{country} has no subdivision {subdivision!r} ({expected})") from None

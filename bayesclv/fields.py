"""Readers of typed TOML fields: each checks one value and names the field when it is bad.

Shared by every spec (models, actions, budgets) so that all of them reject a bad field the
same way: ``SpecError("field 'sampler.chains' must be a whole number ≥ 1, got 0")``.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from bayesclv.errors import SpecError

#: A date as the spec's fields accept it in text: YYYY-MM-DD.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

__all__ = ["as_date", "check_keys", "choice", "count", "date", "number", "subtable", "typed"]


def check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
    """Refuse any key not in ``allowed``, suggesting the closest valid name."""
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
            raise SpecError(
                f"unknown field '{prefix}{key}'{hint} (allowed: {', '.join(allowed)})"
            )


def subtable(raw: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
    """The sub-table ``key`` of ``raw`` (empty if absent and not required)."""
    if key not in raw:
        if required:
            raise SpecError(f"the spec has no [{key}] table")
        return {}
    value = raw[key]
    if not isinstance(value, Mapping):
        raise SpecError(f"'{key}' must be a table ([{key}]), got {value!r}")
    return value


def typed(
    table: Mapping[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    prefix: str,
    *,
    default: Any = None,
    required: bool = False,
) -> Any:
    """The value of ``key`` if it has type ``kind`` (bools are never numbers), else ``default``."""
    if key not in table:
        if required:
            raise SpecError(f"field '{prefix}{key}' is required")
        return default
    value = table[key]
    # bool is an int in Python, but `chains = true` is a mistake, not a count.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        name = kind.__name__ if isinstance(kind, type) else "number"
        raise SpecError(f"field '{prefix}{key}' must be a {name}, got {value!r}")
    return value


def choice(
    table: Mapping[str, Any], key: str, choices: tuple[str, ...], prefix: str, *, default: str
) -> str:
    """A string field that must be one of ``choices``."""
    value = typed(table, key, str, prefix, default=default)
    if value not in choices:
        close = difflib.get_close_matches(value, choices, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise SpecError(
            f"field '{prefix}{key}' = {value!r} is not one of {', '.join(choices)}{hint}"
        )
    return value


def number(
    table: Mapping[str, Any],
    key: str,
    prefix: str,
    *,
    default: float | None = None,
    required: bool = False,
) -> float:
    """A numeric field, as float."""
    value = typed(table, key, (int, float), prefix, default=default, required=required)
    return value if value is None else float(value)


def count(
    table: Mapping[str, Any], key: str, prefix: str, *, default: int = 1, minimum: int = 1
) -> int:
    """A whole-number field that must be >= ``minimum``."""
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"field '{prefix}{key}' must be a whole number ≥ {minimum}, got {value!r}")
    return value


def date(
    table: Mapping[str, Any], key: str, prefix: str, *, required: bool = False
) -> pd.Timestamp | None:
    """A date field (TOML date, or text YYYY-MM-DD), as a normalised Timestamp (:func:`as_date`)."""
    if key not in table:
        if required:
            raise SpecError(f"field '{prefix}{key}' is required (a date like 1997-09-30)")
        return None
    return as_date(f"{prefix}{key}", table[key])


def as_date(name: str, value: Any) -> pd.Timestamp:
    """``value`` as a midnight Timestamp, or a SpecError naming the field ``name``.

    Accepted: a date, a datetime without time zone, or text YYYY-MM-DD, between 1677 and
    2262 (pandas' nanosecond range, which the data engines use). "today", "03/04/2020",
    20201231 or a datetime with a time zone are refused: a spec is versioned, and its dates
    must mean the same thing whenever and wherever it runs.
    """
    if isinstance(value, str) and not ISO_DATE.fullmatch(value.strip()):
        raise SpecError(f"field '{name}' = {value!r} is not a date (use YYYY-MM-DD)")
    if not isinstance(value, (str, datetime.date)):
        raise SpecError(f"field '{name}' = {value!r} is not a date (use YYYY-MM-DD)")
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        raise SpecError(f"field '{name}' = {value.isoformat()} has a time zone; give "
                        "a plain date (YYYY-MM-DD): the log's dates are calendar days")
    try:
        return pd.Timestamp(str(value).strip()).as_unit("ns").normalize()
    except (ValueError, TypeError, OverflowError):
        raise SpecError(
            f"field '{name}' = {value!r} is not a date pandas can represent "
            "(use YYYY-MM-DD between 1677 and 2262)"
        ) from None

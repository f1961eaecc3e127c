"""Spreadsheet-safe text: customer ids and labels never become live formulas.

A spreadsheet evaluates a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (and
some read a leading tab or carriage return the same way), so an id such as
``=HYPERLINK("http://…")`` in a transaction log would turn into a working link, or worse,
in the finance pack (CSV/formula injection, OWASP). The rule here is OWASP's:

* **CSV** has no cell types, so such text gets a leading apostrophe (``'=HYPERLINK(…)``),
  which spreadsheets show as text. To read an id back, drop one leading ``'`` when the
  next character is one of the triggers (:func:`unescape`); no other text starts with
  ``'`` followed by a trigger, because such text is itself escaped again.
* **Excel** cells are typed: the writer stores such text as a string cell, never a formula,
  so the value round-trips unchanged.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["TRIGGERS", "escape", "is_formula_like", "safe_frame", "unescape"]

#: Leading characters a spreadsheet may treat as the start of a formula.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    """True when ``text`` would be read as a formula by a spreadsheet (or is escaped text)."""
    return text.startswith(TRIGGERS) or (text.startswith("'") and text[1:].startswith(TRIGGERS))


def escape(value: object) -> object:
    """``value`` with a leading apostrophe if it is formula-like text; anything else as is."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def unescape(value: object) -> object:
    """The inverse of :func:`escape` (for reading ids back from a CSV of the pack)."""
    if isinstance(value, str) and value.startswith("'") and is_formula_like(value[1:]):
        return value[1:]
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`escape` applied to every text cell and column name."""
    out = frame.copy()
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column])
                or pd.api.types.is_bool_dtype(out[column])
                or pd.api.types.is_datetime64_any_dtype(out[column])):
            out[column] = out[column].map(escape)
    out.columns = [escape(str(c)) for c in out.columns]
    return out

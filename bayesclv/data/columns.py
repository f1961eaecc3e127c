"""Column mapping: which columns of a transaction log hold the customer, date, amount, segment."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from bayesclv.errors import DataError


@dataclass(frozen=True)
class ColumnMap:
    """Names of the transaction-log columns that ``summarise`` reads.

    Parameters
    ----------
    customer : str
        Column with the customer id (read as a string; zero padding is kept).
    date : str
        Column with the purchase date (a date/datetime column or ISO 8601 strings).
        Times of day are ignored: all purchases of one customer on one day are one occasion.
    amount : str
        Column with the purchase amount (currency units, non-negative).
    segment : str or None
        Optional column with the customer's segment label. It must be constant per customer.
    """

    customer: str = "customer_id"
    date: str = "date"
    amount: str = "amount"
    segment: str | None = None

    def required(self) -> dict[str, str]:
        """Role → column name for every column the log must contain."""
        roles = {"customer": self.customer, "date": self.date, "amount": self.amount}
        if self.segment is not None:
            roles["segment"] = self.segment
        return roles


def check_columns(
    available: Sequence[str],
    wanted: dict[str, str],
    what: str,
    advice: str = "Pass the right names with ColumnMap(...).",
) -> None:
    """Raise ``DataError`` for the first wanted column missing from ``available``.

    Parameters
    ----------
    available : sequence of str
        Columns present in the input.
    wanted : dict
        Role → column name, as from :meth:`ColumnMap.required`.
    what : str
        Description of the input, used in the message (e.g. ``"the transaction log"``).
    advice : str
        What to do about it, appended to the message.
    """
    present = [str(c) for c in available]
    for role, name in wanted.items():
        if name in present:
            continue
        lowered = {c.lower(): c for c in present}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        hint = f"; did you mean {lowered[close[0]]!r}?" if close else "."
        raise DataError(
            f"column {name!r} (the {role} column) not found in {what}{hint} "
            f"Available columns: {', '.join(repr(c) for c in present)}. {advice}"
        )

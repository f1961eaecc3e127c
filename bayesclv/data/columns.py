"""Column mapping: which columns of a transaction log hold the customer, date, amount, segment."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
    amount : str or None
        Column with the purchase amount (currency units, non-negative). ``None`` for a log
        without amounts (visits, orders without values): the summary then counts
        purchases only, and its spend columns are unknown (``n_spend`` 0, ``mean_spend``,
        ``first_amount`` and ``spend_holdout`` NaN).
    segment : str or None
        Optional column with the customer's segment label. It must be constant per customer.
    fields : mapping of str to str, optional
        Where each name was set, for error messages: role → the setting a user changes,
        e.g. ``{"amount": "data.amount"}`` for names from a spec. Roles left out are
        described as arguments of ``ColumnMap``. Not compared: two maps naming the same
        columns are equal.
    """

    customer: str = "customer_id"
    date: str = "date"
    amount: str | None = "amount"
    segment: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def required(self) -> dict[str, str]:
        """Role → column name for every column the log must contain."""
        roles = {"customer": self.customer, "date": self.date}
        if self.amount is not None:
            roles["amount"] = self.amount
        if self.segment is not None:
            roles["segment"] = self.segment
        return roles

    def check(self, available: Sequence[str], what: str) -> None:
        """Raise ``DataError`` for the first column of the map missing from ``available``.

        The message says how to fix it where the name was set: a spec field
        (``Set data.amount in the spec …``) or a ``ColumnMap`` argument.

        Parameters
        ----------
        available : sequence of str
            Columns present in the log.
        what : str
            Description of the log, used in the message (e.g. its path).
        """
        labels, advice = {}, {}
        for role in self.required():
            setting = self.fields.get(role)
            if setting is None:
                advice[role] = "Pass the right names with ColumnMap(...)" + (
                    ", or ColumnMap(amount=None) if the log has no amounts."
                    if role == "amount" else ".")
            else:
                labels[role] = setting
                advice[role] = f"Set {setting} in the spec to the log's column" + (
                    f", or {setting} = false if the log has no amounts."
                    if role == "amount" else ".")
        check_columns(available, self.required(), what, advice, labels)


def check_columns(
    available: Sequence[str],
    wanted: dict[str, str],
    what: str,
    advice: str | Mapping[str, str] = "Pass the right names with ColumnMap(...).",
    labels: Mapping[str, str] | None = None,
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
    advice : str or mapping of str to str
        What to do about it, appended to the message; a mapping gives it per role.
    labels : mapping of str to str, optional
        How to name a role's column in the message (default ``"the <role> column"``).
    """
    present = [str(c) for c in available]
    for role, name in wanted.items():
        if name in present:
            continue
        lowered = {c.lower(): c for c in present}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        hint = f"; did you mean {lowered[close[0]]!r}?" if close else "."
        label = (labels or {}).get(role, f"the {role} column")
        todo = advice if isinstance(advice, str) else advice[role]
        raise DataError(
            f"column {name!r} ({label}) not found in {what}{hint} "
            f"Available columns: {', '.join(repr(c) for c in present)}. {todo}"
        )

"""Static customer covariates: read per customer, checked, and encoded as model terms.

A covariate is a fixed attribute of a customer (acquisition channel, region, first-basket
value, …), numeric or categorical. The models use it as a regression term on the log scale
of a process's rate (:mod:`bayesclv.models.covariates`); this module turns the raw values
into those terms:

* a **numeric** covariate becomes one term, standardised by the mean and standard deviation
  of the customers the model was fitted to (so its coefficient is the change per standard
  deviation, and a customer at the mean has the segment's own parameters);
* a **categorical** covariate becomes one 0/1 term per level except the reference level,
  the most common one (ties: the first in sorted order), so its coefficients are log
  factors against that level.

The encoding is learned once, from the fitted customers, and stored with the fit, so new
customers are scored on the same scale and a level the fit never saw is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from bayesclv.data.columns import check_columns
from bayesclv.data.summary import CustomerSummary
from bayesclv.errors import DataError

__all__ = [
    "CovariateColumn",
    "CovariateEncoding",
    "covariates_from_log",
    "with_covariates",
]

#: Summary columns a covariate may not be named after.
RESERVED = ("segment", "x", "t_x", "T", "n_spend", "mean_spend", "first_amount",
            "first_purchase", "x_holdout", "spend_holdout")


@dataclass(frozen=True)
class CovariateColumn:
    """How one covariate becomes model terms.

    Attributes
    ----------
    name
        The column's name.
    kind
        ``"numeric"`` or ``"categorical"``.
    levels
        Categorical: every level seen in the fitted customers, the reference level first.
    mean, sd
        Numeric: the centre and scale of the standardisation.
    """

    name: str
    kind: Literal["numeric", "categorical"]
    levels: tuple[str, ...] = ()
    mean: float = 0.0
    sd: float = 1.0

    @property
    def terms(self) -> tuple[str, ...]:
        """The model terms: ``name`` (numeric), or ``name[level]`` per non-reference level."""
        if self.kind == "numeric":
            return (self.name,)
        return tuple(f"{self.name}[{level}]" for level in self.levels[1:])

    @classmethod
    def learn(cls, name: str, values: pd.Series) -> CovariateColumn:
        """The encoding of one covariate from the fitted customers' values.

        Raises
        ------
        DataError
            If the column is constant (it cannot be told apart from the segment's level).
        """
        if _is_numeric(values):
            numbers = values.to_numpy(np.float64)
            sd = float(numbers.std())
            if not sd > 0:
                raise DataError(f"covariate {name!r} has the same value ({numbers[0]:g}) for "
                                "every customer: it carries no information; drop it")
            return cls(name=name, kind="numeric", mean=float(numbers.mean()), sd=sd)
        text = values.astype(str)
        counts = text.value_counts()
        if len(counts) < 2:
            raise DataError(f"covariate {name!r} has the same value ({counts.index[0]!r}) for "
                            "every customer: it carries no information; drop it")
        reference = min(counts.index[counts == counts.max()])
        others = sorted(level for level in counts.index if level != reference)
        return cls(name=name, kind="categorical", levels=(reference, *others))

    def encode(self, values: pd.Series) -> np.ndarray:
        """The terms of some customers' values, shape (customers, terms).

        Raises
        ------
        DataError
            For a non-numeric value of a numeric covariate, or a level the fit never saw,
            naming the customer and the value.
        """
        if self.kind == "numeric":
            numbers = pd.to_numeric(values, errors="coerce")
            bad = numbers.isna() & values.notna()
            if bad.any():
                where = bad.to_numpy().argmax()
                raise DataError(f"covariate {self.name!r} is numeric, but customer "
                                f"{values.index[where]!r} has {values.iloc[where]!r}")
            return ((numbers.to_numpy(np.float64) - self.mean) / self.sd)[:, None]
        text = values.astype(str).to_numpy()
        unknown = ~np.isin(text, self.levels)
        if unknown.any():
            where = int(unknown.argmax())
            raise DataError(
                f"covariate {self.name!r} of customer {values.index[where]!r} is "
                f"{text[where]!r}, a level the fit never saw (levels: "
                f"{', '.join(map(repr, self.levels))}); refit with it, or map it to a known level"
            )
        return (text[:, None] == np.asarray(self.levels[1:], dtype=object)[None, :]).astype(
            np.float64)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping; :meth:`from_dict` restores it."""
        if self.kind == "numeric":
            return {"name": self.name, "kind": self.kind, "mean": self.mean, "sd": self.sd}
        return {"name": self.name, "kind": self.kind, "levels": list(self.levels)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CovariateColumn:
        """The inverse of :meth:`to_dict`."""
        return cls(name=raw["name"], kind=raw["kind"], levels=tuple(raw.get("levels", ())),
                   mean=float(raw.get("mean", 0.0)), sd=float(raw.get("sd", 1.0)))


@dataclass(frozen=True)
class CovariateEncoding:
    """The encodings of a fit's covariates, learned from its customers.

    Attributes
    ----------
    columns
        One :class:`CovariateColumn` per covariate, in the summary's order.
    """

    columns: tuple[CovariateColumn, ...]

    @classmethod
    def learn(cls, summary: CustomerSummary, names: Sequence[str]) -> CovariateEncoding:
        """The encoding of some covariates, learned from the summary's customers.

        Raises
        ------
        DataError
            If the summary does not carry one of them, or one is constant.
        """
        missing = [name for name in names if name not in summary.covariates]
        if missing:
            raise DataError(
                f"the customers carry no covariate {missing[0]!r} (covariates: "
                f"{', '.join(map(repr, summary.covariates)) or 'none'}); attach it with "
                "bayesclv.data.with_covariates, or [covariates] in the spec"
            )
        return cls(tuple(CovariateColumn.learn(name, summary.frame[name]) for name in names))

    def column(self, name: str) -> CovariateColumn:
        """The encoding of covariate ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise DataError(f"{name!r} is not a covariate of this fit "
                        f"(covariates: {', '.join(c.name for c in self.columns) or 'none'})")

    def terms(self, names: Sequence[str]) -> tuple[str, ...]:
        """The model terms of some covariates, in order."""
        return tuple(term for name in names for term in self.column(name).terms)

    def design(self, summary: CustomerSummary, names: Sequence[str]) -> np.ndarray:
        """The terms of some covariates for every customer of a summary.

        Parameters
        ----------
        summary
            The customers; they must carry every covariate in ``names``.
        names
            Covariate names (a process's covariates).

        Returns
        -------
        numpy.ndarray
            Shape (customers, terms), in :meth:`terms` order.

        Raises
        ------
        DataError
            If the summary lacks a covariate or has a value the encoding cannot take.
        """
        missing = [name for name in names if name not in summary.covariates]
        if missing:
            raise DataError(
                f"the customers to score have no covariate {missing[0]!r}, which the fit "
                "uses; attach it with bayesclv.data.with_covariates (or [covariates] in the "
                "spec) as for the fit"
            )
        parts = [self.column(name).encode(summary.frame[name]) for name in names]
        if not parts:
            return np.zeros((summary.n_customers, 0))
        return np.concatenate(parts, axis=1)

    def to_list(self) -> list[dict[str, Any]]:
        """A JSON-ready list; :meth:`from_list` restores it."""
        return [column.to_dict() for column in self.columns]

    @classmethod
    def from_list(cls, raw: Sequence[Mapping[str, Any]]) -> CovariateEncoding:
        """The inverse of :meth:`to_list`."""
        return cls(tuple(CovariateColumn.from_dict(item) for item in raw))


def with_covariates(summary: CustomerSummary, table: pd.DataFrame,
                    columns: Sequence[str] | None = None, *,
                    categorical: Sequence[str] = ()) -> CustomerSummary:
    """Attach static covariates to every customer of a summary.

    Parameters
    ----------
    summary
        The customers.
    table
        One row per customer, indexed by customer id (as text) — e.g. from
        :func:`covariates_from_log`, or a customer table read by the caller.
    columns
        The covariates to take from ``table`` (default: all its columns).
    categorical
        Columns to treat as categorical even when their values are numbers (codes such as
        a region number or a postcode).

    Returns
    -------
    CustomerSummary
        The same customers with the covariates as frame columns, named in
        ``summary.covariates``. A column of numbers (a numeric dtype, or text that reads as
        a finite number in every row, as CSV columns are read) is a numeric covariate
        unless named in ``categorical``; every other column is categorical (its values as
        text).

    Raises
    ------
    DataError
        If a column is missing, reserved or given twice, the table lists a customer twice,
        a customer of the summary has no row or a missing value (naming them), or a
        covariate is constant over the customers.
    """
    names = list(table.columns if columns is None else columns)
    if not names:
        raise DataError("no covariate columns given")
    check_columns(table.columns, {name: name for name in names}, "the covariate table",
                  advice="Name columns of the covariate table.",
                  labels={name: "a covariate" for name in names})
    for name in names:
        if str(name) in RESERVED:
            raise DataError(f"covariate {name!r} has the name of a summary column; rename it")
        if str(name) in summary.covariates or names.count(name) > 1:
            raise DataError(f"covariate {name!r} is given twice")
    index = pd.Index(table.index.astype(str), name="customer_id")
    if index.has_duplicates:
        raise DataError(f"the covariate table lists customer {index[index.duplicated()][0]!r} "
                        "more than once")
    aligned = table[names].set_axis(index).reindex(summary.frame.index)
    absent = ~summary.frame.index.isin(index)
    if absent.any():
        raise DataError(f"{int(absent.sum())} customers have no row in the covariate table, "
                        f"e.g. {summary.frame.index[absent.argmax()]!r}")
    frame = summary.frame.copy()
    for name in names:
        values = aligned[name]
        blank = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
        if blank.any():
            raise DataError(f"covariate {name!r} is missing for customer "
                            f"{values.index[blank.argmax()]!r} ({int(blank.sum())} customers "
                            "in all); fill it, or leave those customers out")
        values = values.astype(str) if name in categorical else _as_numbers(values)
        CovariateColumn.learn(str(name), values)
        frame[str(name)] = values
    return replace(summary, frame=frame,
                   covariates=(*summary.covariates, *(str(n) for n in names)))


def covariates_from_log(log: pd.DataFrame, customer: str, columns: Sequence[str]
                        ) -> pd.DataFrame:
    """Each customer's covariates from the columns of a transaction log.

    Parameters
    ----------
    log
        The transaction log, one row per purchase.
    customer
        Its customer-id column.
    columns
        Covariate columns; each must hold one value per customer.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (text), one column per covariate.

    Raises
    ------
    DataError
        If a column is missing, a row has no value (naming the row and customer), or a
        customer's rows carry two values of a covariate (naming the customer and both).
    """
    names = list(columns)
    check_columns(log.columns, {"customer": customer, **{n: n for n in names}},
                  "the transaction log", advice="Set [covariates] to the log's columns.",
                  labels={n: "a covariate" for n in names})
    ids = log[customer].astype(str).str.strip()
    out = {}
    for name in names:
        values = log[name]
        blank = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
        if blank.any():
            row = int(blank.argmax())
            raise DataError(f"row {row + 2} (customer {ids.iloc[row]!r}): covariate {name!r} "
                            "is missing")
        keyed = values if _is_numeric(values) else values.astype(str)
        per_customer = keyed.groupby(ids.to_numpy(), sort=True)
        varying = per_customer.nunique() > 1
        if varying.any():
            who = varying.index[varying.to_numpy().argmax()]
            seen = keyed[(ids == who).to_numpy()].unique()
            raise DataError(f"covariate {name!r} varies within customer {who!r} "
                            f"({seen[0]!r} and {seen[1]!r}); a covariate is fixed per "
                            "customer")
        out[name] = per_customer.first()
    frame = pd.DataFrame(out)
    frame.index = pd.Index(frame.index.astype(str), name="customer_id")
    return frame


def _as_numbers(values: pd.Series) -> pd.Series:
    """``values`` as float64 if every one is a finite number (or reads as one), else as text."""
    if _is_numeric(values):
        return values.astype(np.float64)
    numbers = pd.to_numeric(values.astype(str).str.strip(), errors="coerce")
    if numbers.notna().all() and np.isfinite(numbers.to_numpy(np.float64)).all():
        return numbers.astype(np.float64)
    return values.astype(str)


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)

"""The per-customer summary (``CustomerSummary``) and its compressed form (``CompressedRows``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.errors import DataError

COMPRESS_KEYS = ("segment", "x", "t_x", "T")


@dataclass(frozen=True)
class CompressedRows:
    """Unique ``(segment, x, t_x, T)`` histories with their customer counts.

    The BTYD likelihoods depend on a customer only through these four values, so models
    can be fitted on ``rows`` with ``count`` as weights.

    Attributes
    ----------
    rows : pd.DataFrame
        Columns ``segment`` (int code into ``segments``), ``x`` (int64), ``t_x``, ``T``
        (float64, time units) and ``count`` (int64), one row per distinct history, sorted.
    customer_row : np.ndarray
        For each customer in the summary's frame order, the position of its row in ``rows``:
        ``rows.iloc[customer_row]`` expands back to one row per customer.
    segments : tuple of str
        Segment labels, in code order.
    """

    rows: pd.DataFrame
    customer_row: np.ndarray
    segments: tuple[str, ...]

    @property
    def n_customers(self) -> int:
        """Number of customers represented (the sum of ``count``)."""
        return int(self.rows["count"].sum())


@dataclass(frozen=True)
class CustomerSummary:
    """One row per customer: repeat occasions, recency, age and spend, by segment.

    Attributes
    ----------
    frame : pd.DataFrame
        Indexed by ``customer_id`` (str). Columns: ``segment`` (Categorical; categories are
        the segment order), ``x`` (repeat occasions in calibration, int64), ``t_x`` (time
        from first to last calibration occasion), ``T`` (time from first occasion to the
        calibration end), ``n_spend`` (repeat occasions with a positive amount, int64),
        ``mean_spend`` (their mean amount, NaN when ``n_spend`` is 0), ``first_amount`` (the
        first occasion's amount), ``first_purchase`` (datetime64) and, with a holdout,
        ``x_holdout`` (occasions in the holdout, int64) and ``spend_holdout`` (its total
        amount). Times are in ``time_unit``.
    time_unit : str
        ``"weeks"`` or ``"days"``.
    calibration_end : pd.Timestamp or None
        Last calibration day (inclusive), when known.
    holdout_end : pd.Timestamp or None
        Last holdout day (inclusive), if there is a holdout.
    holdout_length : float or None
        Holdout length in time units.
    exclusions : dict of str to int
        What was left out of the summary and how much of it (reason → count).
    covariates : tuple of str
        Names of the frame's static customer covariates (columns added by
        :func:`bayesclv.data.covariates.with_covariates`), in order; empty without.
    """

    frame: pd.DataFrame
    time_unit: str = "weeks"
    calibration_end: pd.Timestamp | None = None
    holdout_end: pd.Timestamp | None = None
    holdout_length: float | None = None
    exclusions: dict[str, int] = field(default_factory=dict)
    covariates: tuple[str, ...] = ()

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        time_unit: str = "weeks",
        customer: str = "customer_id",
        segment: str | None = None,
        calibration_end: object = None,
        segment_order: Sequence[str] | None = None,
    ) -> CustomerSummary:
        """Validate an already summarised table and wrap it.

        Parameters
        ----------
        df : pd.DataFrame
            One row per customer with columns ``x``, ``t_x``, ``T`` (in ``time_unit``) and
            optionally ``mean_spend`` (or ``zbar``), ``n_spend``, ``first_amount``,
            ``x_holdout`` with ``spend_holdout``. The customer id may be a column or the index.
        time_unit : {"weeks", "days"}
            Unit of ``t_x`` and ``T``.
        customer : str
            Name of the customer-id column (or index).
        segment : str, optional
            Name of a segment column; without it every customer is in segment ``"all"``.
        calibration_end : date-like, optional
            Calibration end; when given, ``first_purchase`` is reconstructed from ``T``.
        segment_order : sequence of str, optional
            Explicit segment order (default: sorted labels).

        Returns
        -------
        CustomerSummary

        Notes
        -----
        ``n_spend`` defaults to ``x`` for customers with a positive ``mean_spend`` and to 0
        otherwise (published summaries such as CDNOW's write ``zbar = 0`` for customers
        without repeat spend); ``mean_spend`` is set to NaN where ``n_spend`` is 0.

        Raises
        ------
        DataError
            Naming the row, customer, column and value of the first invalid entry.
        """
        from bayesclv.data.from_frame import summary_from_frame

        return summary_from_frame(
            df,
            time_unit=time_unit,
            customer=customer,
            segment=segment,
            calibration_end=calibration_end,
            segment_order=segment_order,
        )

    @property
    def segments(self) -> tuple[str, ...]:
        """Segment labels in their recorded order (the codes of ``segment_codes``)."""
        return tuple(str(c) for c in self.frame["segment"].cat.categories)

    @property
    def n_customers(self) -> int:
        """Number of customers in the summary."""
        return len(self.frame)

    @property
    def segment_codes(self) -> np.ndarray:
        """Integer segment code per customer (positions in ``segments``), int64."""
        return self.frame["segment"].cat.codes.to_numpy().astype(np.int64)

    @property
    def has_holdout(self) -> bool:
        """Whether the summary carries holdout columns."""
        return "x_holdout" in self.frame.columns

    def to_xarray(self) -> xr.Dataset:
        """The summary as an ``xr.Dataset`` with dim ``customer``.

        ``segment`` is a coordinate on ``customer`` (labels), ``segment_code`` a data
        variable; the segment order, time unit and dates are in ``attrs``.
        """
        frame = self.frame
        data = {
            name: ("customer", frame[name].to_numpy())
            for name in frame.columns
            if name != "segment"
        }
        data["segment_code"] = ("customer", self.segment_codes)
        attrs: dict[str, object] = {
            "time_unit": self.time_unit,
            "segments": list(self.segments),
            "exclusions": "; ".join(f"{k}={v}" for k, v in self.exclusions.items()),
        }
        if self.calibration_end is not None:
            attrs["calibration_end"] = str(self.calibration_end.date())
        if self.holdout_end is not None:
            attrs["holdout_end"] = str(self.holdout_end.date())
            attrs["holdout_length"] = self.holdout_length
        return xr.Dataset(
            data,
            coords={
                "customer": frame.index.to_numpy(dtype=object),
                "segment": ("customer", frame["segment"].astype(str).to_numpy(dtype=object)),
            },
            attrs=attrs,
        )

    def compress(self) -> CompressedRows:
        """Collapse customers with the same ``(segment, x, t_x, T)`` into counted rows."""
        keys = pd.DataFrame(
            {
                "segment": self.segment_codes,
                "x": self.frame["x"].to_numpy(),
                "t_x": self.frame["t_x"].to_numpy(),
                "T": self.frame["T"].to_numpy(),
            }
        )
        grouped = keys.groupby(list(COMPRESS_KEYS), sort=True)
        customer_row = grouped.ngroup().to_numpy().astype(np.int64)
        rows = grouped.size().rename("count").reset_index()
        rows["count"] = rows["count"].astype(np.int64)
        rows["segment"] = rows["segment"].astype(np.int64)
        return CompressedRows(rows=rows, customer_row=customer_row, segments=self.segments)

    def describe(self) -> pd.DataFrame:
        """Per-segment overview.

        Returns
        -------
        pd.DataFrame
            Indexed by segment (plus a ``"total"`` row when there are several segments):
            ``customers``, ``repeat_buyers`` (x > 0), ``share_repeat``, ``mean_x``,
            ``mean_spend`` (mean amount per repeat occasion with positive spend, currency)
            and ``total_spend`` (first plus repeat calibration spend, currency; NaN when
            first amounts are unknown, as in published summaries). The exclusions are in
            ``.attrs["exclusions"]``.
        """
        frame = self.frame
        repeat_total = (frame["n_spend"] * frame["mean_spend"].fillna(0.0)).astype(float)
        parts = pd.DataFrame(
            {
                "segment": frame["segment"],
                "customers": 1,
                "repeat_buyers": (frame["x"] > 0).astype(np.int64),
                "x": frame["x"],
                "n_spend": frame["n_spend"],
                "repeat_spend": repeat_total,
                "first_amount": frame["first_amount"],
            }
        )
        sums = parts.groupby("segment", observed=False).sum()
        unknown_first = frame["first_amount"].isna().groupby(frame["segment"], observed=False).any()
        if len(self.segments) > 1:
            sums.loc["total"] = sums.sum()
            unknown_first.loc["total"] = unknown_first.any()
        sums["first_amount"] = sums["first_amount"].where(~unknown_first.to_numpy())
        sums.index = pd.Index([str(i) for i in sums.index], name="segment")
        with np.errstate(invalid="ignore", divide="ignore"):
            table = pd.DataFrame(
                {
                    "customers": sums["customers"].astype(np.int64),
                    "repeat_buyers": sums["repeat_buyers"].astype(np.int64),
                    "share_repeat": sums["repeat_buyers"] / sums["customers"],
                    "mean_x": sums["x"] / sums["customers"],
                    "mean_spend": sums["repeat_spend"] / sums["n_spend"],
                    "total_spend": sums["first_amount"] + sums["repeat_spend"],
                }
            )
        table.attrs["exclusions"] = dict(self.exclusions)
        return table

    def subset(self, mask_or_segments: object) -> CustomerSummary:
        """Keep some customers.

        Parameters
        ----------
        mask_or_segments : boolean array-like, str or iterable of str
            A boolean mask aligned with ``frame`` (keeps every segment in the order), or
            segment labels to keep (the segment order is restricted to them, in the
            summary's order, so codes are renumbered).

        Returns
        -------
        CustomerSummary
            With ``exclusions["customers_removed_by_subset"]`` increased by the number removed.
        """
        frame = self.frame
        values = _selector_array(mask_or_segments)
        if values.dtype == bool:
            if len(values) != len(frame):
                raise DataError(
                    f"subset mask has {len(values)} entries but the summary has "
                    f"{len(frame)} customers"
                )
            kept = frame.loc[values].copy()
        else:
            wanted = [str(v) for v in values]
            unknown = [w for w in wanted if w not in self.segments]
            if unknown:
                raise DataError(
                    f"unknown segment(s) {', '.join(map(repr, unknown))}; "
                    f"the summary has {', '.join(map(repr, self.segments))}"
                )
            order = [s for s in self.segments if s in wanted]
            kept = frame.loc[frame["segment"].isin(order)].copy()
            kept["segment"] = kept["segment"].cat.set_categories(
                pd.Index(order, dtype="str")
            )
        if kept.empty:
            raise DataError("the subset is empty: no customer matches")
        exclusions = dict(self.exclusions)
        exclusions["customers_removed_by_subset"] = (
            exclusions.get("customers_removed_by_subset", 0) + len(frame) - len(kept)
        )
        return CustomerSummary(
            frame=kept,
            time_unit=self.time_unit,
            calibration_end=self.calibration_end,
            holdout_end=self.holdout_end,
            holdout_length=self.holdout_length,
            exclusions=exclusions,
            covariates=self.covariates,
        )

    def __repr__(self) -> str:
        dates = ""
        if self.calibration_end is not None:
            dates = f", calibration_end={self.calibration_end.date()}"
        if self.holdout_end is not None:
            dates += (
                f", holdout_end={self.holdout_end.date()}"
                f" ({self.holdout_length:g} {self.time_unit})"
            )
        excluded = ", ".join(f"{k}: {v}" for k, v in self.exclusions.items()) or "none"
        return (
            f"CustomerSummary({self.n_customers} customers, {len(self.segments)} segment(s), "
            f"time_unit={self.time_unit!r}{dates})\n"
            f"{self.describe().to_string()}\n"
            f"excluded: {excluded}"
        )


def _selector_array(selector: object) -> np.ndarray:
    """``subset``'s argument as a 1-d array (booleans, or segment labels)."""
    if isinstance(selector, str):
        return np.asarray([selector], dtype=object)
    if isinstance(selector, pd.Series | pd.Index):
        return selector.to_numpy()
    if isinstance(selector, np.ndarray):
        return selector
    if isinstance(selector, Iterable):
        return np.asarray(list(selector))
    raise DataError(
        f"subset expects a boolean mask or segment labels, got {type(selector).__name__}"
    )

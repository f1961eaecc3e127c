"""Turn an engine's per-customer aggregates into a ``CustomerSummary``.

All engines (pandas, DuckDB, Spark) return the same raw table (integer days since
1970-01-01, counts and sums); everything after that — units, means, segment labels and
order, dtypes, sorting — happens here once, which is what makes their summaries identical.
``raw_from_arrow`` does the part the two SQL engines share: from their per-customer Arrow
table to that raw table.

Repeat spend is derived as (calibration occasions with a positive amount) minus the first
occasion when its amount is positive. This lets an engine aggregate occasions per customer
in one pass, without first joining each customer's first day back onto the occasions; the
price is floating-point rounding at the level of the customer's total spend (~1e-16 of it).

A log without amounts (``ColumnMap(amount=None)``) gives no spend columns in the raw
table; the summary then says spend is unknown the way ``CustomerSummary.from_frame`` does
for a table without it: ``n_spend`` 0, ``mean_spend``, ``first_amount`` and
``spend_holdout`` NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bayesclv.data.columns import ColumnMap
from bayesclv.data.summary import CustomerSummary
from bayesclv.data.validate import Window, segment_conflict_error
from bayesclv.errors import DataError

RAW_COLUMNS = ("customer_id", "first_day", "last_day", "n_occ")
RAW_SPEND_COLUMNS = ("n_positive", "positive_sum", "first_amount")
RAW_HOLDOUT_COLUMNS = ("x_holdout",)
RAW_HOLDOUT_SPEND_COLUMNS = ("spend_holdout",)
DEFAULT_SEGMENT = "all"

SegmentsArg = pd.Series | Mapping[str, object] | None


def assemble(
    raw: pd.DataFrame,
    window: Window,
    exclusions: dict[str, int],
    *,
    segments: SegmentsArg = None,
    segment_order: Sequence[str] | None = None,
) -> CustomerSummary:
    """Build the summary from an engine's raw per-customer table.

    Parameters
    ----------
    raw : pd.DataFrame
        Columns ``RAW_COLUMNS``: days (int64 since the epoch) of the first and last
        calibration occasion and the number of calibration occasions; with amounts,
        ``RAW_SPEND_COLUMNS``: the number of calibration occasions with a positive amount,
        their total and the first occasion's amount; the holdout columns when the window
        has a holdout (``spend_holdout`` with amounts), and ``segment`` when the log had a
        segment column.
    window : Window
        Dates and time unit.
    exclusions : dict
        Reason → count, from the engine.
    segments : pd.Series or mapping, optional
        Customer id → segment label, for customers' segments computed outside the log.
    segment_order : sequence of str, optional
        Explicit segment order.
    """
    ids = pd.Index(raw["customer_id"].astype("str"), dtype="str", name="customer_id")
    labels = categorical_segments(_segment_labels(raw, ids, segments), segment_order)
    order = None if ids.is_monotonic_increasing else ids.argsort()

    def column(name: str, dtype: type) -> np.ndarray:
        values = raw[name].to_numpy(dtype=dtype)
        return values if order is None else values.take(order)

    if order is not None:
        ids, labels = ids.take(order), labels.take(order)
    first_day = column("first_day", np.int64)
    unit = window.unit_days
    cal_day = (window.calibration_end - pd.Timestamp(0)).days
    unknown = np.full(len(ids), np.nan)
    if "first_amount" in raw.columns:
        first_amount = column("first_amount", np.float64)
        first_positive = first_amount > 0
        n_spend = column("n_positive", np.int64) - first_positive
        spend_sum = column("positive_sum", np.float64) - np.where(first_positive, first_amount,
                                                                  0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_spend = np.where(n_spend > 0, spend_sum / n_spend, np.nan)
    else:
        first_amount, n_spend, mean_spend = unknown, np.zeros(len(ids), np.int64), unknown
    columns: dict[str, object] = {
        "segment": labels,
        "x": column("n_occ", np.int64) - 1,
        "t_x": (column("last_day", np.int64) - first_day) / unit,
        "T": (cal_day - first_day) / unit,
        "n_spend": n_spend,
        "mean_spend": mean_spend,
        "first_amount": first_amount,
        "first_purchase": first_day.astype("datetime64[D]").astype("datetime64[ns]"),
    }
    if window.holdout_end is not None:
        columns["x_holdout"] = column("x_holdout", np.int64)
        columns["spend_holdout"] = (column("spend_holdout", np.float64)
                                    if "spend_holdout" in raw.columns else unknown)
    frame = pd.DataFrame(columns, index=ids)
    return CustomerSummary(
        frame=frame,
        time_unit=window.time_unit,
        calibration_end=window.calibration_end,
        holdout_end=window.holdout_end,
        holdout_length=window.holdout_length,
        exclusions=dict(exclusions),
    )


def _segment_labels(raw: pd.DataFrame, ids: pd.Index, segments: SegmentsArg) -> pd.Series:
    """Each customer's segment label, from the log's column, ``segments`` or the default."""
    if segments is not None and "segment" in raw.columns:
        raise DataError(
            "segments were given twice (ColumnMap.segment and segments=); give one of them"
        )
    if "segment" in raw.columns:
        return pd.Series(raw["segment"].array, index=ids)
    if segments is None:
        return pd.Series(DEFAULT_SEGMENT, index=ids)
    mapping = segments if isinstance(segments, pd.Series) else pd.Series(dict(segments))
    mapping.index = mapping.index.astype("str")
    if mapping.index.has_duplicates:
        dup = mapping.index[mapping.index.duplicated()][0]
        raise DataError(f"segments= lists customer {dup!r} more than once")
    labels = mapping.reindex(ids)
    missing = labels.isna()
    if missing.any():
        raise DataError(
            f"segments= has no label for customer {ids[missing.to_numpy()][0]!r} "
            f"({int(missing.sum())} customers of the summary have none)"
        )
    if isinstance(mapping.dtype, pd.CategoricalDtype):
        labels = labels.astype(mapping.dtype)
    return labels


def categorical_segments(labels: pd.Series, order: Sequence[str] | None) -> pd.Categorical:
    """Segment labels as a Categorical with a recorded, stable order.

    The order is ``order`` when given, else the categories of a Categorical ``labels``,
    else the sorted labels.
    """
    if order is None and isinstance(labels.dtype, pd.CategoricalDtype):
        order = [str(c) for c in labels.cat.categories]
    codes, uniques = pd.factorize(labels.astype("str"), sort=True)
    present = [str(u) for u in uniques]
    if order is None:
        order = present
    else:
        order = [str(o) for o in order]
        if len(set(order)) != len(order):
            raise DataError(f"segment_order repeats a label: {order}")
        unknown = [p for p in present if p not in order]
        if unknown:
            raise DataError(
                f"segment label(s) {', '.join(map(repr, unknown))} not in the segment order "
                f"{order}"
            )
    # position of each present label in the order; a missing label (code −1) stays −1
    position = np.array([order.index(p) for p in present] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(position[codes], categories=pd.Index(order, dtype="str"))


def raw_from_arrow(
    table: pa.Table, columns: ColumnMap, window: Window, after_end: int
) -> tuple[pd.DataFrame, dict[str, int]]:
    """An SQL engine's per-customer aggregates (Arrow) as the raw table ``assemble`` reads.

    Shared by the DuckDB and Spark engines: raise for a customer with two segment labels
    (``seg_min`` ≠ ``seg_max``), count and drop customers whose first purchase is after the
    calibration end (and their transactions, ``n_rows_window``), keep the raw columns.

    Parameters
    ----------
    table
        One row per customer: ``RAW_COLUMNS``, ``n_rows_window``, with an amount column
        ``RAW_SPEND_COLUMNS``, the holdout columns when the window has a holdout,
        ``seg_min``/``seg_max`` with a segment column.
    columns, window
        The log's columns and the dates.
    after_end
        Transactions after the last day considered, counted by the engine.

    Returns
    -------
    raw : pd.DataFrame
        For ``assemble``.
    exclusions : dict
        Reason → count.
    """
    if columns.segment is not None:
        conflict = pc.not_equal(table["seg_min"], table["seg_max"])
        if pc.any(conflict).as_py():
            bad = table.filter(conflict).sort_by("customer_id").slice(0, 1).to_pylist()[0]
            raise segment_conflict_error(
                columns.segment, bad["customer_id"], (bad["seg_min"], bad["seg_max"])
            )
    cal_day = (window.calibration_end - pd.Timestamp(0)).days
    late = pc.greater(table["first_day"], cal_day)
    exclusions = {
        "transactions_after_end": after_end,
        "customers_first_purchase_after_calibration": pc.sum(late).as_py() or 0,
        "transactions_of_those_customers": pc.sum(
            table["n_rows_window"].filter(late)
        ).as_py() or 0,
    }
    keep = list(RAW_COLUMNS)
    if columns.amount is not None:
        keep += list(RAW_SPEND_COLUMNS)
    if window.holdout_end is not None:
        keep += list(RAW_HOLDOUT_COLUMNS)
        if columns.amount is not None:
            keep += list(RAW_HOLDOUT_SPEND_COLUMNS)
    if columns.segment is not None:
        table = table.rename_columns({"seg_min": "segment"})
        keep.append("segment")
    return table.filter(pc.invert(late)).select(keep).to_pandas(), exclusions

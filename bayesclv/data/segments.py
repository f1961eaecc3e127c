"""Segment helpers: per-customer segment labels to pass to ``summarise(..., segments=...)``.

Segment the frequency/dropout models on what is known at acquisition (cohort, channel,
region, first-basket value). Tiers built from calibration behaviour select on the outcome
the models then explain, and bias the pooled estimates.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from bayesclv.data.columns import ColumnMap
from bayesclv.data.pandas_engine import EPOCH, typed_columns
from bayesclv.data.validate import DEFAULT_TIMEZONE, check_timezone, parse_day
from bayesclv.errors import DataError


class BehaviouralSegmentWarning(UserWarning):
    """Segments derived from calibration-period behaviour (they select on the outcome)."""


def cohort_segments(
    transactions: pd.DataFrame,
    *,
    columns: ColumnMap = ColumnMap(),  # noqa: B008 - frozen dataclass, safe as a default
    freq: str = "Q",
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.Series:
    """Acquisition cohort of each customer: the period of their first purchase.

    Parameters
    ----------
    transactions : pd.DataFrame
        The transaction log (validated like ``summarise``'s pandas engine does).
    columns : ColumnMap
        Column names (the amount column is validated too).
    freq : str
        A pandas period frequency: ``"Q"`` gives labels like ``"1997Q1"``, ``"M"``
        ``"1997-01"``, ``"Y"`` ``"1997"``.
    timezone : str
        IANA zone in which instants fall on days, as in ``summarise``.

    Returns
    -------
    pd.Series
        Categorical labels (categories in chronological order) indexed by ``customer_id``,
        named ``"cohort"``. Pass it as ``summarise(..., segments=...)``.
    """
    typed = _typed(transactions, columns, timezone)
    first = pd.Series(typed["day"]).groupby(typed["customer"], sort=True).min()
    try:
        periods = pd.PeriodIndex(
            (EPOCH + first.to_numpy()).astype("datetime64[ns]"), freq=freq
        )
    except (ValueError, TypeError) as exc:
        raise DataError(f"freq={freq!r} is not a pandas period frequency (e.g. 'Q', 'M')") from exc
    labels = periods.astype(str)
    order = [str(p) for p in periods.unique().sort_values()]
    return pd.Series(
        pd.Categorical(labels, categories=pd.Index(order, dtype="str")),
        index=pd.Index(first.index, dtype="str", name="customer_id"),
        name="cohort",
    )


def value_tier_segments(
    transactions: pd.DataFrame,
    *,
    columns: ColumnMap = ColumnMap(),  # noqa: B008 - frozen dataclass, safe as a default
    basis: Literal["first", "calibration"] = "first",
    calibration_end: object = None,
    quantiles: Sequence[float] = (1 / 3, 2 / 3),
    labels: Sequence[str] = ("low", "mid", "high"),
    timezone: str = DEFAULT_TIMEZONE,
) -> pd.Series:
    """Value tiers by quantiles of first-occasion amount or of calibration spend.

    Parameters
    ----------
    transactions : pd.DataFrame
        The transaction log.
    columns : ColumnMap
        Column names; tiers need the amount column.
    basis : {"first", "calibration"}
        ``"first"`` (default): the amount of the customer's first purchase occasion (all
        purchases of the first day), known at acquisition. ``"calibration"``: the
        customer's total spend up to ``calibration_end`` (inclusive).
    calibration_end : date-like, optional
        Required for ``basis="calibration"``; customers first buying after it are left out.
    quantiles : sequence of float
        Increasing cut points in (0, 1); a customer at a cut point goes to the lower tier.
    labels : sequence of str
        One label per tier, lowest first (``len(quantiles) + 1`` of them).
    timezone : str
        IANA zone in which instants fall on days, as in ``summarise``.

    Returns
    -------
    pd.Series
        Categorical tier labels (categories in ``labels`` order) indexed by
        ``customer_id``, named ``"value_tier"``.

    Raises
    ------
    DataError
        For a log without amounts (``columns.amount`` is None), bad quantiles or labels.

    Warns
    -----
    BehaviouralSegmentWarning
        With ``basis="calibration"``.

    Warnings
    --------
    Segmenting the frequency/dropout models (Pareto/NBD, BG/NBD) on calibration spend
    selects on the outcome: heavy buyers spend more, so the "high" tier is high partly
    because of the very x and t_x the model then explains, and the pooled estimates are
    biased. Use ``basis="calibration"`` for spend models only; for frequency/dropout
    models segment on what is known at acquisition (``basis="first"``, cohort, channel).
    """
    if columns.amount is None:
        raise DataError("value tiers are tiers of amounts, and the log has none "
                        "(columns.amount is None); segment by cohort or a column instead")
    cuts = np.asarray(quantiles, dtype=float)
    if cuts.ndim != 1 or np.any(np.diff(cuts) <= 0) or np.any((cuts <= 0) | (cuts >= 1)):
        raise DataError(f"quantiles={list(quantiles)} must be increasing and inside (0, 1)")
    if len(labels) != len(cuts) + 1:
        raise DataError(
            f"labels={list(labels)} must have {len(cuts) + 1} entries (one per tier)"
        )
    typed = _typed(transactions, columns, timezone)
    customer, day, amount = typed["customer"], typed["day"], typed["amount"]
    if basis == "first":
        first_day = pd.Series(day).groupby(customer).transform("min").to_numpy()
        on_first = day == first_day
        value = pd.Series(amount[on_first]).groupby(customer[on_first], sort=True).sum()
    elif basis == "calibration":
        if calibration_end is None:
            raise DataError("value_tier_segments(basis='calibration') needs calibration_end")
        warnings.warn(
            "value tiers from calibration spend select on the outcome: do not use them as "
            "segments of a frequency/dropout model (see docs/data.md)",
            BehaviouralSegmentWarning,
            stacklevel=2,
        )
        end = (parse_day(calibration_end, "calibration_end") - pd.Timestamp(0)).days
        kept = day <= end
        if not kept.any():
            raise DataError(f"no purchase on or before calibration_end {calibration_end}")
        value = pd.Series(amount[kept]).groupby(customer[kept], sort=True).sum()
    else:
        raise DataError(f"basis={basis!r} is not supported; use 'first' or 'calibration'")
    thresholds = np.quantile(value.to_numpy(), cuts)
    tier = np.searchsorted(thresholds, value.to_numpy(), side="left")
    order = pd.Index([str(label) for label in labels], dtype="str")
    return pd.Series(
        pd.Categorical.from_codes(tier, categories=order),
        index=pd.Index(value.index, dtype="str", name="customer_id"),
        name="value_tier",
    )


def _typed(
    transactions: pd.DataFrame, columns: ColumnMap, timezone: str
) -> dict[str, np.ndarray | pd.Index]:
    zone = check_timezone(timezone)
    if not isinstance(transactions, pd.DataFrame):
        raise DataError(
            "segment helpers take the transaction log as a pandas DataFrame, got "
            f"{type(transactions).__name__}"
        )
    columns.check(transactions.columns, "the transaction log")
    if len(transactions) == 0:
        raise DataError("the transaction log has no rows")
    return typed_columns(transactions, columns, timezone=zone)

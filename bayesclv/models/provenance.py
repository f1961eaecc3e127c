"""What customer data a fit was made from: a fingerprint of the whole summary, a hash of each
fitted customer and the calibration end, so that scoring can tell the fitted customers (or
some of them) from other data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.data import CustomerSummary

__all__ = ["HISTORY", "FittedCustomers", "fingerprint"]

#: The summary columns a fit depends on, besides the covariates it uses.
HISTORY = ("segment", "x", "t_x", "T", "n_spend", "mean_spend")


def fingerprint(summary: CustomerSummary) -> str:
    """SHA-256 of the summary columns a fit depends on (covariates included), and of its
    segments and time unit."""
    columns = [*HISTORY, *summary.covariates]
    hashed = pd.util.hash_pandas_object(summary.frame[columns], index=True).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update(json.dumps([list(summary.segments), summary.time_unit]).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class FittedCustomers:
    """The customers a fit saw, as a 64-bit hash of each one's id and of their history.

    Sixteen bytes a customer: a summary's customers can then be checked one by one against
    those the fit saw (a subset of them is the fitted customers; another id or another
    history is not), where the fingerprint only tells whether a whole summary is the same.
    A hash is pandas' ``hash_pandas_object`` of the values, so labels (a segment's, not its
    code) and numbers to the last bit decide; the segment order does not.

    Attributes
    ----------
    ids
        Hash of each fitted customer's id (int64 bits), in summary order.
    histories
        Hash of each fitted customer's id with their segment, x, t_x, T, n_spend,
        mean_spend and the fit's covariates (int64 bits), in summary order.
    calibration_end
        The fitted summary's calibration end, when it was known.
    """

    ids: np.ndarray
    histories: np.ndarray
    calibration_end: pd.Timestamp | None = None

    @classmethod
    def of(cls, summary: CustomerSummary, covariates: Sequence[str] = ()) -> FittedCustomers:
        """The record of a summary's customers, hashing the given covariate columns."""
        ids, histories = _hashes(summary, covariates)
        return cls(ids=ids, histories=histories, calibration_end=summary.calibration_end)

    def __len__(self) -> int:
        return int(self.ids.size)

    def unseen(self, summary: CustomerSummary,
               covariates: Sequence[str] = ()) -> tuple[pd.Index, pd.Index]:
        """The summary's customers the fit did not see as they are.

        Parameters
        ----------
        summary
            The customers to check.
        covariates
            The fit's covariate columns (which the summary must carry).

        Returns
        -------
        (pandas.Index, pandas.Index)
            Ids of customers the fit never saw, and of those it saw with another history
            (segment, x, t_x, T, spend or covariates), in summary order.
        """
        ids, histories = _hashes(summary, covariates)
        known = np.isin(ids, self.ids)
        same = np.isin(histories, self.histories)
        index = summary.frame.index
        return index[~known], index[known & ~same]

    def to_dataset(self) -> xr.Dataset:
        """The record as a dataset (dim ``customer``), as saved with a fit."""
        data: dict[str, object] = {"id_hash": ("customer", self.ids),
                                   "history_hash": ("customer", self.histories)}
        if self.calibration_end is not None:
            data["calibration_end"] = ((), np.datetime64(self.calibration_end, "ns"))
        return xr.Dataset(data)

    @classmethod
    def from_dataset(cls, dataset: xr.Dataset) -> FittedCustomers:
        """The record saved by :meth:`to_dataset`."""
        end = dataset.get("calibration_end")
        return cls(
            ids=dataset["id_hash"].to_numpy().astype(np.int64),
            histories=dataset["history_hash"].to_numpy().astype(np.int64),
            calibration_end=None if end is None else pd.Timestamp(end.values),
        )


def _hashes(summary: CustomerSummary, covariates: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    frame = summary.frame
    ids = pd.util.hash_pandas_object(frame.index, index=False).to_numpy()
    histories = pd.util.hash_pandas_object(frame[[*HISTORY, *covariates]], index=True).to_numpy()
    return ids.view(np.int64), histories.view(np.int64)

"""Distinct rows of parallel columns: the one way bayesclv collapses customers to keys.

Likelihoods and scores depend on a customer only through a few values — (segment, x, t_x, T)
for P(alive) and the frequency likelihood, (segment, x) for its special functions,
(segment, n) for the spend model's, (segment, T) for unconditional expectations — so each
is evaluated once per distinct combination and gathered or weighted back to customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Distinct", "distinct"]


@dataclass(frozen=True)
class Distinct:
    """The distinct rows of some columns, in lexicographic order.

    Attributes
    ----------
    columns
        One float64 array per input column, holding the distinct rows (exact for integer
        codes below 2**53).
    inverse
        For every input row, the index of its distinct row (int64).
    counts
        Input rows per distinct row (int64).
    """

    columns: tuple[np.ndarray, ...]
    inverse: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return int(self.counts.size)

    def codes(self, i: int) -> np.ndarray:
        """Column ``i`` as int64 (for a column of segment codes)."""
        return self.columns[i].astype(np.int64)

    def stacked(self) -> np.ndarray:
        """The distinct rows as a (columns, rows) float64 array."""
        return np.stack(self.columns)


def distinct(*columns: ArrayLike) -> Distinct:
    """Collapse parallel columns (equal lengths) to their distinct rows.

    Parameters
    ----------
    *columns
        Arrays of one value per row (segment codes, counts, times).

    Returns
    -------
    Distinct
    """
    stacked = np.stack([np.asarray(c, dtype=np.float64).ravel() for c in columns])
    keys, inverse, counts = np.unique(stacked, axis=1, return_inverse=True, return_counts=True)
    return Distinct(columns=tuple(keys), inverse=inverse.ravel().astype(np.int64),
                    counts=counts.astype(np.int64))

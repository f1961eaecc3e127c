"""Covariate terms in the models: coefficients, and customers grouped into cells.

A covariate acts on one or more processes (``[covariates]``: purchase, dropout, spend) as a
regression term on the log scale, added to every segment's pooled parameter:

* purchase: log of the mean purchase rate, log(r/α) + x'γ_λ;
* dropout: log of the mean dropout rate log(s/β) + x'γ_μ (Pareto/NBD), or the log-odds of
  the mean dropout probability logit(a/(a+b)) + x'γ_μ ((M)BG/NBD), shapes unchanged;
* spend: log of the mean spend per purchase log(pγ/q) + x'γ_z (Gamma-Gamma).

The coefficients are shared by the segments, each with a Normal(0, ``coef_sigma``) prior.
The segment parameters stored in the posterior are those of a *baseline* customer: every
numeric covariate at the fitted customers' mean, every categorical one at its reference
level (:mod:`bayesclv.data.covariates`).

Customers with the same segment and the same covariate terms share every parameter: they
form a *cell*. The likelihoods and scoring compute parameters once per cell and treat cells
as they treat segments without covariates (compressed rows are distinct (cell, x, t_x, T)),
so categorical covariates keep the rows few; a numeric covariate makes about one cell per
customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayesclv.data import CovariateEncoding, CustomerSummary
from bayesclv.distinct import distinct
from bayesclv.spec import COVARIATE_PROCESSES, CovariateSpec

__all__ = ["Cells", "CovariateTerms", "coefficient_name", "term_dim"]


def coefficient_name(process: str) -> str:
    """The posterior variable of a process's coefficients, e.g. ``purchase_coef``."""
    return f"{process}_coef"


def term_dim(process: str) -> str:
    """The dim of a process's coefficients, e.g. ``purchase_term``."""
    return f"{process}_term"


@dataclass(frozen=True)
class Cells:
    """Customers grouped by (segment, covariate terms).

    Attributes
    ----------
    segment
        Each cell's segment code (int64).
    design
        Per process with covariates, the terms of each cell, shape (cells, terms).
    of_customer
        Each customer's cell (int64), in the summary's order.
    """

    segment: np.ndarray
    design: dict[str, np.ndarray]
    of_customer: np.ndarray

    def __len__(self) -> int:
        return int(self.segment.size)

    @classmethod
    def of_segments(cls, n_segments: int, segment_codes: np.ndarray) -> Cells:
        """Cells that are the segments themselves (a fit without covariates)."""
        return cls(segment=np.arange(n_segments, dtype=np.int64), design={},
                   of_customer=np.asarray(segment_codes, dtype=np.int64))

    def take(self, customers: np.ndarray | slice) -> Cells:
        """The same cells, for some of the customers."""
        return Cells(segment=self.segment, design=self.design,
                     of_customer=self.of_customer[customers])


@dataclass(frozen=True)
class CovariateTerms:
    """A spec's covariates with the encoding learned from the fitted customers.

    Attributes
    ----------
    spec
        Which covariates act on which process, and the coefficients' prior.
    encoding
        How each covariate becomes terms (:class:`bayesclv.data.CovariateEncoding`).
    """

    spec: CovariateSpec
    encoding: CovariateEncoding

    def columns(self, process: str) -> tuple[str, ...]:
        """The covariates acting on ``process``."""
        return getattr(self.spec, process)

    def terms(self, process: str) -> tuple[str, ...]:
        """The model terms of ``process`` (coordinate labels of its coefficients)."""
        return self.encoding.terms(self.columns(process))

    def processes(self, candidates: tuple[str, ...] = COVARIATE_PROCESSES) -> tuple[str, ...]:
        """Those of ``candidates`` with at least one covariate."""
        return tuple(p for p in candidates if self.columns(p))

    def cells(self, summary: CustomerSummary, segment_codes: np.ndarray,
              processes: tuple[str, ...]) -> Cells:
        """Group some customers into cells by segment and their terms of ``processes``.

        Parameters
        ----------
        summary
            The customers, carrying the covariates.
        segment_codes
            Each customer's segment code (in the fit's segments).
        processes
            The processes whose terms distinguish cells.

        Returns
        -------
        Cells

        Raises
        ------
        DataError
            If a customer lacks a covariate or has a value the encoding cannot take.
        """
        active = self.processes(processes)
        designs = {p: self.encoding.design(summary, self.columns(p)) for p in active}
        columns = [np.asarray(segment_codes, dtype=np.int64)]
        for process in active:
            columns += list(designs[process].T)
        keys = distinct(*columns)
        first = np.unique(keys.inverse, return_index=True)[1]
        return Cells(segment=keys.codes(0),
                     design={p: designs[p][first] for p in active},
                     of_customer=keys.inverse.astype(np.int64))

    def shift(self, process: str, cells: Cells) -> pt.TensorVariable | float:
        """Declare ``process``'s coefficients in the current model; its shift per cell.

        Returns 0.0 (no term) when no covariate acts on ``process``.
        """
        if process not in cells.design:
            return 0.0
        coef = pm.Normal(coefficient_name(process), mu=0.0, sigma=self.spec.coef_sigma,
                         dims=term_dim(process))
        return pt.dot(cells.design[process], coef)

    def coords(self, processes: tuple[str, ...]) -> dict[str, list[str]]:
        """The term coordinates of the processes with covariates, for a model's coords."""
        return {term_dim(p): list(self.terms(p)) for p in self.processes(processes)}

    @classmethod
    def learn(cls, spec: CovariateSpec | None, summary: CustomerSummary) -> CovariateTerms | None:
        """The spec's covariates encoded on the summary's customers, or None without any."""
        if spec is None:
            return None
        return cls(spec=spec, encoding=CovariateEncoding.learn(summary, spec.columns))

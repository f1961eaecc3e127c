"""What scoring needs from a fit and a summary, as plain arrays: draws × segments, customers.

The posterior's (chain, draw) are stacked into one sample axis here (optionally thinned)
and unstacked again when results are labelled, so the maths sees two axes only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.data import CustomerSummary
from bayesclv.errors import DataError
from bayesclv.maths.families import family
from bayesclv.models import Fit
from bayesclv.models.covariates import Cells
from bayesclv.models.fit import Customers, check_customers
from bayesclv.spec import ValueSpec, require_purchase_value

__all__ = [
    "CustomerInputs",
    "PosteriorDraws",
    "check_chunk_size",
    "chunk_slices",
    "customer_inputs",
    "posterior_draws",
]


@dataclass(frozen=True)
class PosteriorDraws:
    """Natural parameters per posterior sample and segment.

    Attributes
    ----------
    family
        ``"pareto_nbd"``, ``"bg_nbd"`` or ``"mbg_nbd"``.
    segments
        Segment labels, in the order of the arrays' second axis.
    frequency
        The family's parameters, each of shape (samples, segments).
    spend
        Gamma-Gamma's ``p, q, gamma``, each (samples, segments), or None.
    chain, draw
        The chain and draw label of each sample.
    value_per_purchase
        Without a spend model: the revenue of one purchase (currency), the same in every
        sample and for every customer (``value.per_purchase``); None otherwise.
    coefficients
        For a fit with covariates, each process's coefficients (``"purchase"``,
        ``"dropout"``, ``"spend"``), shape (samples, terms); empty otherwise. The
        parameters above are then the baseline customer's, and :meth:`frequency_at` /
        :meth:`spend_at` give each covariate cell's.
    """

    family: str
    segments: tuple[str, ...]
    frequency: dict[str, np.ndarray]
    spend: dict[str, np.ndarray] | None
    chain: np.ndarray
    draw: np.ndarray
    value_per_purchase: float | None = None
    coefficients: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        """Number of posterior samples kept."""
        return int(self.chain.size)

    def draw_blocks(self, size: int) -> Iterator[PosteriorDraws]:
        """The samples of ``size`` draws of every chain at a time.

        Each block keeps whole chains and the draws' labels, so results computed block by
        block and concatenated along ``draw`` are those of all samples at once.

        Parameters
        ----------
        size
            Draws of each chain per block (the last may have fewer).

        Yields
        ------
        PosteriorDraws
        """
        labels = np.unique(self.draw)
        for start in range(0, labels.size, size):
            keep = np.isin(self.draw, labels[start:start + size])
            yield replace(
                self,
                frequency={name: values[keep] for name, values in self.frequency.items()},
                spend=None if self.spend is None else {
                    name: values[keep] for name, values in self.spend.items()},
                chain=self.chain[keep],
                draw=self.draw[keep],
                coefficients={name: values[keep] for name, values in self.coefficients.items()},
            )

    def frequency_at(self, cells: Cells, index: np.ndarray) -> list[np.ndarray]:
        """The family's parameters per sample at some covariate cells.

        Parameters
        ----------
        cells
            The customers' cells (:attr:`CustomerInputs.cells`).
        index
            Cell indices (e.g. a chunk's ``cell``, or distinct rows' cells).

        Returns
        -------
        list of numpy.ndarray
            In the family's ``natural`` order, each (samples, len(index)).
        """
        base = [values[:, cells.segment[index]] for values in self.frequency.values()]
        if not self.coefficients.keys() & {"purchase", "dropout"}:
            return base
        return family(self.family).covariate_parameters(
            base, self._shift("purchase", cells, index), self._shift("dropout", cells, index))

    def spend_at(self, cells: Cells, index: np.ndarray) -> dict[str, np.ndarray]:
        """Gamma-Gamma's ``p, q, gamma`` per sample at some covariate cells (see
        :meth:`frequency_at`); γ scales with the mean spend, by e^(x'γ_z)."""
        g = {name: values[:, cells.segment[index]] for name, values in self.spend.items()}
        if "spend" in self.coefficients:
            g["gamma"] = g["gamma"] * np.exp(self._shift("spend", cells, index))
        return g

    def _shift(self, process: str, cells: Cells, index: np.ndarray) -> np.ndarray | float:
        if process not in self.coefficients or process not in cells.design:
            return 0.0
        return self.coefficients[process] @ cells.design[process][index].T

    def unstack(self, values: np.ndarray, dims: tuple[str, ...],
                coords: dict[str, object] | None = None) -> xr.DataArray:
        """Label an array whose first axis is the sample axis: (chain, draw, *dims)."""
        chains = np.unique(self.chain)
        draws = np.unique(self.draw)
        shaped = values.reshape(chains.size, draws.size, *values.shape[1:])
        return xr.DataArray(
            shaped, dims=("chain", "draw", *dims),
            coords={"chain": chains, "draw": draws, **(coords or {})},
        )


def posterior_draws(fit: Fit, *, thin: int = 1, need_spend: bool = True,
                    value: ValueSpec | None = None) -> PosteriorDraws:
    """Collect the fit's parameter draws, keeping every ``thin``-th draw of each chain.

    Parameters
    ----------
    fit
        A fit with dims (chain, draw, segment).
    thin
        Keep draws 0, thin, 2·thin, … of every chain (memory and time scale with 1/thin).
    need_spend
        Require a value per purchase: the Gamma-Gamma posterior (checking q > 1 in every
        draw) or, for a fit without a spend model, ``value.per_purchase``.
    value
        The money settings in use (default: the fit's ``spec.value``); only their
        ``per_purchase`` is read, and only when ``need_spend``.

    Raises
    ------
    DataError
        If ``thin`` is not a positive integer, or some draw has q ≤ 1 (infinite expected
        spend).
    SpecError
        If ``need_spend`` and the fit has no spend model and ``value.per_purchase`` is
        unset, or has one and ``value.per_purchase`` is set
        (:func:`bayesclv.spec.require_purchase_value`).
    """
    if not isinstance(thin, (int, np.integer)) or thin < 1:
        raise DataError(f"thin={thin!r} must be a positive integer")
    frequency = fit.parameters().isel(draw=slice(None, None, thin))
    spend = None
    per_purchase = None
    if need_spend:
        chosen = value if value is not None else fit.spec.value
        require_purchase_value(fit.spend is not None, chosen)
        per_purchase = chosen.per_purchase
    if need_spend and fit.spend is not None:
        spend = _paired(_stacked(fit.spend_parameters()),
                        frequency.sizes["chain"] * frequency.sizes["draw"])
        bad = int((spend["q"] <= 1).sum())
        if bad:
            raise DataError(
                f"{bad} posterior draws of the spend model have q <= 1, where the mean spend "
                "is infinite; tighten the spend priors (spend_priors) or refit"
            )
    chain, draw = np.meshgrid(frequency["chain"].values, frequency["draw"].values,
                              indexing="ij")
    coefficients = {}
    for process in ("purchase", "dropout", "spend"):
        drawn = fit.coefficients(process)
        if drawn is None or (process == "spend" and spend is None):
            continue
        stacked = drawn.transpose("chain", "draw", ...).values
        stacked = stacked.reshape(-1, stacked.shape[-1]).astype(np.float64)
        if process == "spend":
            coefficients[process] = _paired({"c": stacked}, chain.size)["c"]
        else:
            kept = drawn.isel(draw=slice(None, None, thin)).transpose("chain", "draw", ...).values
            coefficients[process] = kept.reshape(-1, kept.shape[-1]).astype(np.float64)
    return PosteriorDraws(
        family=fit.family.name,
        segments=tuple(str(s) for s in fit.segments),
        frequency=_stacked(frequency),
        spend=spend,
        chain=chain.ravel(),
        draw=draw.ravel(),
        value_per_purchase=per_purchase,
        coefficients=coefficients,
    )


def _paired(spend: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """``n`` spend draws, evenly spaced over all of them, to pair with ``n`` frequency draws.

    The frequency and spend models share no parameter and no data term, so their joint
    posterior is the product of the two and any one-to-one pairing of draws is a draw from
    it. The spend model may have its own chains and draws (``[spend_sampler]``): draw i of
    the (chain-major) frequency draws is paired with spend draw ⌊i·m/n⌋ of m. With the same
    shape and thinning this keeps exactly the draws ``thin`` keeps of the frequency model.
    """
    m = next(iter(spend.values())).shape[0]
    index = (np.arange(n) * m) // n
    return {name: values[index] for name, values in spend.items()}


def _stacked(ds: xr.Dataset) -> dict[str, np.ndarray]:
    return {
        str(name): ds[name].transpose("chain", "draw", "segment").values.reshape(
            -1, ds.sizes["segment"]).astype(np.float64)
        for name in ds.data_vars
    }


@dataclass(frozen=True)
class CustomerInputs:
    """Per-customer histories as arrays, with segment codes into the fit's segments.

    Times are in the fit's time unit; ``mean_spend`` is 0 where ``n_spend`` is 0 (it is
    then ignored by the spend formula).

    Attributes
    ----------
    customer, segment
        Customer ids and segment labels, in summary order.
    code
        Index of each customer's segment in the fit's segments.
    x, t_x, T
        Repeat purchases, time of the last one and age at the calibration end.
    n_spend, mean_spend
        Repeat purchases with a positive amount and their mean amount (currency).
    cell
        Each customer's covariate cell (index into ``cells``); default (and for a fit
        without covariates) the segment code.
    cells
        The cells: their segment codes and covariate terms (:class:`Cells`); default (and
        for a fit without covariates) the segments, whose parameters are the baseline
        customer's for a fit with covariates.
    """

    customer: np.ndarray
    segment: np.ndarray
    code: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    n_spend: np.ndarray
    mean_spend: np.ndarray
    cell: np.ndarray | None = None
    cells: Cells | None = None

    def __post_init__(self) -> None:
        if self.cell is None:
            object.__setattr__(self, "cell", np.asarray(self.code, dtype=np.int64))
        if self.cells is None:
            size = int(self.code.max()) + 1 if self.code.size else 0
            object.__setattr__(self, "cells", Cells.of_segments(size, self.code))

    def __len__(self) -> int:
        return int(self.customer.size)

    def take(self, index: slice | np.ndarray) -> CustomerInputs:
        """The customers at ``index``."""
        return CustomerInputs(**{name: getattr(self, name)[index] for name in _FIELDS},
                              cells=self.cells)

    def coords(self) -> dict[str, object]:
        """``customer`` coordinate with ``segment`` on it."""
        return {"customer": self.customer, "segment": ("customer", self.segment)}

    def chunks(self, size: int, *, by_history: bool = False) -> list[np.ndarray]:
        """Positions of the customers, about ``size`` at a time (see :func:`chunk_slices`).

        Parameters
        ----------
        size
            Customers per chunk.
        by_history
            Order the customers by (segment, x, T, t_x) first, so that a chunk's customers
            share their distinct histories (each closed form is evaluated once per distinct
            history in a chunk); otherwise chunks follow the summary's order.

        Returns
        -------
        list of numpy.ndarray
            Positions in summary order of the customers of each chunk.

        Raises
        ------
        DataError
            If ``size`` is not a positive integer.
        """
        order = (np.lexsort((self.t_x, self.T, self.x, self.code)) if by_history
                 else np.arange(len(self)))
        return [order[part] for part in chunk_slices(len(self), size)]


def check_chunk_size(size: int) -> int:
    """``size`` as an int, if it is a positive integer.

    Raises
    ------
    DataError
        Naming ``chunk_size`` otherwise.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise DataError(f"chunk_size={size!r} must be a positive integer")
    return int(size)


def chunk_slices(n: int, size: int) -> list[slice]:
    """Consecutive slices of ``range(n)``, ``size`` items each, none holding a lone item.

    NumPy averages a block of two or more columns over its rows one row at a time, but a
    lone column pairwise, which moves the last bits. So a chunk never holds a single item
    (unless ``n`` is 1): ``size`` 1 counts as 2, and a lone last item joins the chunk before.
    Per-item means over the draws are then the same whatever the chunk size.

    Parameters
    ----------
    n
        Number of items.
    size
        Items per chunk.

    Returns
    -------
    list of slice

    Raises
    ------
    DataError
        If ``size`` is not a positive integer.
    """
    starts = list(range(0, n, max(check_chunk_size(size), 2)))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return [slice(start, stop) for start, stop in pairwise([*starts, n])]


_FIELDS = ("customer", "segment", "code", "x", "t_x", "T", "n_spend", "mean_spend", "cell")


def customer_inputs(summary: CustomerSummary, fit: Fit, *,
                    customers: Customers = "fitted") -> CustomerInputs:
    """Arrays of the summary's customers, with segments matched to the fit's by label.

    This is where every consumer of a fit with a summary checks that the fit was made from
    these customers (:func:`bayesclv.models.fit.check_customers`).

    Parameters
    ----------
    summary
        The customers to score.
    fit
        The fit whose segments (and time unit) they are matched to.
    customers
        ``"fitted"`` (default): customers the fit saw, with the histories it saw (all of
        them or a subset); ``"new"``: customers or histories it did not see (new customers,
        a later snapshot). See :func:`~bayesclv.models.fit.check_customers`.

    Returns
    -------
    CustomerInputs
        With each customer's covariate cell when the fit has covariates.

    Raises
    ------
    DataError
        If the summary's time unit differs from the fit's, a customer's segment was not
        in the fit, (with covariates) a customer lacks a covariate or has a level the
        fit never saw, or the summary is not what ``customers`` says.
    """
    if summary.time_unit != fit.time_unit:
        raise DataError(
            f"summary.time_unit={summary.time_unit!r} but the fit is in {fit.time_unit!r}; "
            "summarise the log in the fit's time unit"
        )
    frame = summary.frame
    fitted = {str(s): i for i, s in enumerate(fit.segments)}
    missing = [s for s in summary.segments if s not in fitted]
    if missing:
        raise DataError(
            f"summary has segment(s) {missing} that the fit does not know "
            f"(fitted segments: {list(fitted)})"
        )
    lookup = np.array([fitted[s] for s in summary.segments], dtype=np.int64)
    n_spend = frame["n_spend"].to_numpy(np.float64)
    mean_spend = frame["mean_spend"].to_numpy(np.float64)
    code = lookup[summary.segment_codes]
    terms = fit.covariate_terms
    cells = (Cells.of_segments(len(fitted), code) if terms is None
             else terms.cells(summary, code, terms.processes()))
    check_customers(fit, summary, customers)
    return CustomerInputs(
        customer=frame.index.to_numpy(dtype=object),
        segment=frame["segment"].astype(str).to_numpy(dtype=object),
        code=code,
        cell=cells.of_customer,
        cells=cells,
        x=frame["x"].to_numpy(np.float64),
        t_x=frame["t_x"].to_numpy(np.float64),
        T=frame["T"].to_numpy(np.float64),
        n_spend=n_spend,
        mean_spend=np.where(n_spend > 0, np.nan_to_num(mean_spend), 0.0),
    )


def per_customer(values: float | np.ndarray | pd.Series | None, inputs: CustomerInputs,
                 name: str) -> np.ndarray:
    """A per-customer amount given as a scalar, an array in summary order or a Series by id.

    Parameters
    ----------
    values
        The amount: None (zero for everyone), a scalar, an array of one value per customer
        in summary order, or a Series indexed by customer id.
    inputs
        The customers.
    name
        The argument's name, for error messages.

    Returns
    -------
    numpy.ndarray
        One value per customer, in ``inputs`` order.

    Raises
    ------
    DataError
        If a Series misses customers, or an array has the wrong shape or non-finite values.
    """
    if values is None:
        return np.zeros(len(inputs))
    if isinstance(values, pd.Series):
        aligned = values.reindex(inputs.customer)
        missing = aligned.index[aligned.isna()]
        if len(missing):
            raise DataError(
                f"{name} has no value for {len(missing)} customers, e.g. {missing[0]!r}"
            )
        return aligned.to_numpy(np.float64)
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        return np.full(len(inputs), float(array))
    if array.shape != (len(inputs),):
        raise DataError(f"{name} has shape {array.shape}; expected ({len(inputs)},) or a scalar")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} has non-finite values")
    return array

"""Decision criteria: how a distribution of incremental value becomes one score.

The default is the posterior **mean** (risk-neutral: maximises expected value). The others
are risk-aware and penalise the downside an analyst may not want to carry:

* ``quantile`` — the ``q``-quantile (default 0.10): "value we beat with 90 % probability";
* ``mean_minus_sd`` — mean − k·sd (default k = 1);
* ``cvar`` — the mean of the worst ``q`` share of draws (default 0.10), the conditional
  value at risk; always ≤ the ``q``-quantile's neighbourhood and ≤ the mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from bayesclv.actions import CRITERIA
from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import SpecError

__all__ = ["CRITERIA", "Criterion", "criterion", "score"]

_DEFAULT_PARAMETER = {"mean": None, "quantile": 0.10, "mean_minus_sd": 1.0, "cvar": 0.10}


@dataclass(frozen=True)
class Criterion:
    """A ranking criterion and its parameter.

    Attributes
    ----------
    name
        ``"mean"``, ``"quantile"``, ``"mean_minus_sd"`` or ``"cvar"``.
    parameter
        ``q`` in (0, 1) for ``quantile`` and ``cvar``; ``k`` ≥ 0 for ``mean_minus_sd``;
        None for ``mean``.
    """

    name: str = "mean"
    parameter: float | None = None

    def __post_init__(self) -> None:
        if self.name not in CRITERIA:
            raise SpecError(f"criterion {self.name!r} is not one of {', '.join(CRITERIA)}")
        if self.name == "mean":
            if self.parameter is not None:
                raise SpecError("criterion 'mean' takes no parameter")
            return
        if self.parameter is None:
            object.__setattr__(self, "parameter", _DEFAULT_PARAMETER[self.name])
        value = float(self.parameter)
        if self.name in ("quantile", "cvar") and not 0 < value < 1:
            raise SpecError(f"criterion {self.name!r} needs a share q in (0, 1), got {value}")
        if self.name == "mean_minus_sd" and not value >= 0:
            raise SpecError(f"criterion 'mean_minus_sd' needs k >= 0, got {value}")
        object.__setattr__(self, "parameter", value)

    @property
    def label(self) -> str:
        """A short column-friendly label, e.g. ``quantile_10%`` or ``mean_minus_1sd``."""
        if self.name == "mean":
            return "mean"
        if self.name == "mean_minus_sd":
            return f"mean_minus_{self.parameter:g}sd"
        return f"{self.name}_{self.parameter * 100:g}%"


def criterion(value: Criterion | str | None = None, parameter: float | None = None) -> Criterion:
    """A :class:`Criterion` from a name (and optional parameter) or a Criterion."""
    if isinstance(value, Criterion):
        if parameter is not None:
            raise SpecError("give the parameter inside the Criterion, not beside it")
        return value
    return Criterion(value or "mean", parameter)


def score(values: xr.DataArray, rule: Criterion | str | None = None) -> xr.DataArray:
    """Reduce draws over (chain, draw) to one score per remaining coordinate.

    Parameters
    ----------
    values
        Draws with dims ``chain``, ``draw`` and any others (e.g. customer, action); NaN
        marks entries that do not apply (an ineligible customer) and stays NaN.
    rule
        The criterion (default: the mean).

    Returns
    -------
    xarray.DataArray
        The score, without the sample dims, in the units of ``values``.
    """
    rule = criterion(rule)
    stacked = values.stack(sample=SAMPLE_DIMS).transpose("sample", ...)
    array = stacked.values
    if rule.name == "mean":
        out = array.mean(axis=0)
    elif rule.name == "quantile":
        out = np.quantile(array, rule.parameter, axis=0)
    elif rule.name == "mean_minus_sd":
        sd = array.std(axis=0, ddof=1) if array.shape[0] > 1 else np.zeros(array.shape[1:])
        out = array.mean(axis=0) - rule.parameter * sd
    else:
        n_tail = max(1, int(np.floor(rule.parameter * array.shape[0])))
        out = np.sort(array, axis=0)[:n_tail].mean(axis=0)
    template = stacked.isel(sample=0, drop=True)
    return template.copy(data=out).assign_attrs(criterion=rule.label, **values.attrs)

"""Fits built by hand from known parameter draws, so CLV and decision tests need no sampler."""

import numpy as np
import xarray as xr

from bayesclv.models import Fit, fingerprint
from bayesclv.models.provenance import FittedCustomers

PUBLISHED = {
    "bg_nbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "mbg_nbd": {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    "pareto_nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    "spend": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}


def _posterior(values: dict[str, np.ndarray], segments) -> xr.DataTree:
    ds = xr.Dataset(
        {name: (("chain", "draw", "segment"), v) for name, v in values.items()},
        coords={"chain": np.arange(next(iter(values.values())).shape[0]),
                "draw": np.arange(next(iter(values.values())).shape[1]),
                "segment": list(segments)},
    )
    return xr.DataTree.from_dict({"posterior": ds})


def make_fit(spec, segments=("all",), *, chains=2, draws=50, spread=0.1, scale=None, seed=0,
             summary=None):
    """A Fit whose draws scatter log-normally (sd ``spread``) around the published values.

    ``scale`` maps a parameter to per-segment multipliers (to make segments differ). A spec
    with ``spend = false`` gets no spend model (the frequency draws are the same as with one).
    ``summary``: the customers the fit stands for a fit of (its fingerprint and fitted
    customers), which it then scores by default; without, it records none and scores only
    with ``customers="new"``.
    """
    rng = np.random.default_rng(seed)
    scale = scale or {}

    def draws_of(names):
        return {
            name: PUBLISHED_ALL[name] * np.asarray(scale.get(name, np.ones(len(segments))))
            * np.exp(spread * rng.standard_normal((chains, draws, len(segments))))
            for name in names
        }

    PUBLISHED_ALL = {**PUBLISHED[spec.family], **PUBLISHED["spend"]}
    return Fit(
        spec=spec,
        segments=tuple(segments),
        time_unit="weeks",
        fingerprint="hand-built" if summary is None else fingerprint(summary),
        frequency=_posterior(draws_of(PUBLISHED[spec.family]), segments),
        spend=_posterior(draws_of(PUBLISHED["spend"]), segments) if spec.spend else None,
        fitted_customers=None if summary is None else FittedCustomers.of(summary),
    )

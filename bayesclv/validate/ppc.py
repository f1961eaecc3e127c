"""Prior and posterior predictive checks of repeat purchases per segment.

For each draw of the segment parameters, every customer's calibration history is simulated
again over their own T from the model's generative process; the histogram of repeat
purchases (0, 1, …, ``max_x - 1``, ``max_x``+) per segment is compared with the observed
one. A model that fits puts the observed counts inside the predictive intervals: central
(equal-tailed) intervals of the simulated counts, not HDIs, so each tail holds the same share.
"""

from __future__ import annotations

import warnings

import numpy as np
import pymc as pm
import xarray as xr

from bayesclv.data import CustomerSummary
from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import DataError
from bayesclv.maths import families
from bayesclv.models import Fit, build_frequency_model
from bayesclv.models.covariates import coefficient_name

__all__ = ["predictive_check", "simulate_repeat_purchases"]


def simulate_repeat_purchases(
    family: str, params: dict[str, np.ndarray], T: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw calibration repeat-purchase counts from the generative process.

    Parameters
    ----------
    family
        ``"pareto_nbd"``, ``"bg_nbd"`` or ``"mbg_nbd"``.
    params
        Natural parameters, each of shape (draws, customers) (already indexed by segment).
    T
        Each customer's calibration length (time units), shape (customers,).
    rng
        Random generator.

    Returns
    -------
    numpy.ndarray
        Repeat purchases, shape (draws, customers).
    """
    record = families.family(family)
    return record.future(rng, [params[name] for name in record.natural], None).purchases(0.0, T)


def predictive_check(
    fit: Fit,
    summary: CustomerSummary,
    *,
    kind: str = "posterior",
    n_draws: int = 200,
    max_x: int = 7,
    interval_prob: float = 0.90,
    seed: int = 0,
) -> xr.Dataset:
    """Observed vs predicted distribution of repeat purchases, per segment.

    Parameters
    ----------
    fit
        A fit of ``summary``.
    summary
        The customers to re-simulate (their segments and T).
    kind
        ``"posterior"`` (draws of the fit) or ``"prior"`` (draws of the spec's priors).
    n_draws
        Parameter draws to simulate with (thinned evenly from the posterior).
    max_x
        Counts of ``max_x`` or more share the last bin.
    interval_prob
        Mass of the central predictive interval: its ends are the simulated counts'
        (1 − interval_prob) / 2 and (1 + interval_prob) / 2 quantiles.
    seed
        Random seed of the simulation.

    Returns
    -------
    xarray.Dataset
        Dims (segment, x): ``observed`` (customers), ``predicted_mean``, ``predicted_low``,
        ``predicted_high`` (customers, central ``interval_prob`` interval), and ``inside``;
        ``attrs["interval"]`` names the interval (``"central 90%"``).

    Raises
    ------
    DataError
        If ``interval_prob`` is not in (0, 1).
    """
    if not 0 < interval_prob < 1:
        raise DataError(f"interval_prob={interval_prob!r} must be in (0, 1)")
    rng = np.random.default_rng(seed)
    draws, coefficients = _parameter_draws(fit, summary, kind, n_draws, seed)
    codes = summary.segment_codes
    params = {name: values[:, codes] for name, values in draws.items()}
    if coefficients:
        terms = fit.covariate_terms
        shifts = [coefficients[p] @ terms.encoding.design(summary, terms.columns(p)).T
                  if p in coefficients else 0.0 for p in ("purchase", "dropout")]
        names = fit.family.natural
        shifted = fit.family.maths.covariate_parameters([params[n] for n in names], *shifts)
        params = dict(zip(names, shifted, strict=True))
    simulated = simulate_repeat_purchases(
        fit.spec.family, params, summary.frame["T"].to_numpy(np.float64), rng
    )
    bins = np.minimum(simulated, max_x)
    observed_bins = np.minimum(summary.frame["x"].to_numpy(), max_x)
    n_seg = len(summary.segments)
    predicted = np.zeros((bins.shape[0], n_seg, max_x + 1))
    for draw in range(bins.shape[0]):
        np.add.at(predicted[draw], (codes, bins[draw]), 1)
    observed = np.zeros((n_seg, max_x + 1))
    np.add.at(observed, (codes, observed_bins), 1)
    tail = (1 - interval_prob) / 2
    low, high = np.quantile(predicted, [tail, 1 - tail], axis=0)
    labels = [str(i) for i in range(max_x)] + [f"{max_x}+"]
    coords = {"segment": list(summary.segments), "x": labels}
    dims = ("segment", "x")
    return xr.Dataset(
        {
            "observed": (dims, observed),
            "predicted_mean": (dims, predicted.mean(axis=0)),
            "predicted_low": (dims, low),
            "predicted_high": (dims, high),
            "inside": (dims, (low <= observed) & (observed <= high)),
        },
        coords=coords,
        attrs={"kind": kind, "interval": f"central {interval_prob:.0%}",
               "interval_prob": interval_prob, "units": "customers"},
    )


def _parameter_draws(
    fit: Fit, summary: CustomerSummary, kind: str, n_draws: int, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Natural parameters, shape (n_draws, segments), from the posterior or the prior, and
    the covariate coefficients of the same draws, shape (n_draws, terms), by process."""
    names = fit.family.natural
    terms = fit.covariate_terms
    processes = () if terms is None else terms.processes(("purchase", "dropout"))
    coefficients = [coefficient_name(p) for p in processes]
    if kind == "posterior":
        posterior = fit.frequency["posterior"].to_dataset()[[*names, *coefficients]]
        stacked = posterior.stack(sample=SAMPLE_DIMS)
        pick = np.linspace(0, stacked.sizes["sample"] - 1, min(n_draws, stacked.sizes["sample"]))
        chosen = stacked.isel(sample=pick.astype(int))
    elif kind == "prior":
        model = build_frequency_model(fit.family, summary, fit.spec.priors, covariates=terms)
        with warnings.catch_warnings():
            # The likelihood enters as a Potential, which prior sampling must ignore: that is
            # exactly the prior.
            warnings.filterwarnings("ignore", message="The effect of Potentials")
            prior = pm.sample_prior_predictive(
                draws=n_draws, model=model, var_names=[*names, *coefficients], random_seed=seed
            )["prior"]
        chosen = prior.to_dataset().stack(sample=SAMPLE_DIMS)
    else:
        raise ValueError(f"kind must be 'posterior' or 'prior', got {kind!r}")
    natural = {name: chosen[name].transpose("sample", "segment").values for name in names}
    return natural, {p: chosen[coefficient_name(p)].transpose("sample", ...).values
                     for p in processes}

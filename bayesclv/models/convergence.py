"""Convergence diagnostics of a NUTS fit: a table, a verdict, and a loud warning.

Thresholds follow Vehtari et al. (2021) and Betancourt (2017): split-rank R-hat ≤ 1.01,
bulk and tail ESS ≥ 100 per chain, no divergent transitions, E-BFMI ≥ 0.3 in every chain.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayesclv.dims import SAMPLE_DIMS
from bayesclv.errors import ConvergenceWarning

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100
BFMI_MIN = 0.3


@dataclass(frozen=True)
class Convergence:
    """Diagnostics of one fit.

    Attributes
    ----------
    table
        One row per scalar parameter (``name[segment]``): mean, sd, R-hat, bulk and tail ESS.
    divergences
        Number of divergent transitions after tuning, all chains together.
    bfmi
        E-BFMI of each chain.
    problems
        Plain-language descriptions of every failed threshold (empty when all pass).
    """

    table: pd.DataFrame
    divergences: int
    bfmi: tuple[float, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every threshold passes."""
        return not self.problems


def diagnose(posterior: xr.Dataset, sample_stats: xr.Dataset, var_names: list[str]) -> Convergence:
    """Compute R-hat, ESS, divergences and E-BFMI for the named variables.

    Parameters
    ----------
    posterior
        Posterior draws with dims ``chain`` and ``draw``.
    sample_stats
        NUTS statistics with ``diverging`` and ``energy``.
    var_names
        Variables to diagnose (the sampled, unconstrained ones are the informative choice).
    """
    selected = posterior[var_names]
    n_chains = selected.sizes["chain"]
    stats = {
        "mean": selected.mean(SAMPLE_DIMS),
        "sd": selected.std(SAMPLE_DIMS),
        "r_hat": az.rhat(selected),
        "ess_bulk": az.ess(selected, method="bulk"),
        "ess_tail": az.ess(selected, method="tail"),
    }
    # one row per scalar element, labelled by ArviZ: ``name`` or ``name[coord]``
    table = az.dataset_to_dataframe(
        xr.concat([value.expand_dims(stat=[stat]) for stat, value in stats.items()], dim="stat"),
        sample_dims=["stat"],
    ).T.rename_axis(index=None, columns=None)
    divergences = int(sample_stats["diverging"].sum()) if "diverging" in sample_stats else 0
    bfmi = tuple(float(v) for v in np.atleast_1d(_bfmi(sample_stats["energy"].values)))

    problems: list[str] = []
    if n_chains > 1:
        bad = table[table["r_hat"] > RHAT_MAX]
        if len(bad):
            problems.append(
                f"R-hat above {RHAT_MAX} for {len(bad)} parameter(s) "
                f"(worst {bad['r_hat'].idxmax()} = {bad['r_hat'].max():.3f}): the chains disagree; "
                "run longer (more tune/draws) or check the priors"
            )
    ess_min = ESS_PER_CHAIN_MIN * n_chains
    low = table[(table["ess_bulk"] < ess_min) | (table["ess_tail"] < ess_min)]
    if len(low):
        worst = low[["ess_bulk", "ess_tail"]].min(axis=1).idxmin()
        problems.append(
            f"effective sample size below {ess_min} for {len(low)} parameter(s) "
            f"(worst {worst}): intervals are unreliable; draw more samples"
        )
    if divergences:
        problems.append(
            f"{divergences} divergent transition(s): the posterior may be biased; raise "
            "sampler.target_accept or tighten the priors on the between-segment scales (tau)"
        )
    weak = [i for i, b in enumerate(bfmi) if b < BFMI_MIN]
    if weak:
        problems.append(
            f"E-BFMI below {BFMI_MIN} in chain(s) {weak}: the sampler explores the energy "
            "distribution poorly"
        )
    return Convergence(table=table, divergences=divergences, bfmi=bfmi, problems=tuple(problems))


def warn_if_unconverged(convergence: Convergence, what: str) -> None:
    """Emit a ConvergenceWarning listing every failed check of ``what`` (never silent)."""
    if convergence.problems:
        warnings.warn(
            f"{what} did not pass convergence checks:\n  - " + "\n  - ".join(convergence.problems),
            ConvergenceWarning,
            stacklevel=3,
        )


def _bfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI per chain from an energy array of shape (chain, draw).

    The mean squared energy change over the variance of the energy, both per chain, the
    variance taken over the n draws with ddof = 0 (as ArviZ 0.x computed it).
    ``arviz.bfmi`` of ArviZ 1.x takes the variance with ddof = 1, so its values are ours
    × (n − 1)/n: below 0.3 for the same chains give or take one draw's weight, but other
    numbers in every fit's diagnostics; ours is kept so the same seeds give the same record.
    """
    energy = np.atleast_2d(energy)
    return np.square(np.diff(energy, axis=1)).mean(axis=1) / energy.var(axis=1)

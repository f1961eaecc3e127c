"""Partial pooling on simulated truth: intervals cover the truth, small segments shrink."""

import arviz as az
import numpy as np
import pytest

from bayesclv.data import CustomerSummary
from bayesclv.models import fit
from bayesclv.simulate import draw_truth, simulate_customers

SIZES = [50, 200, 800, 2000, 5000]


def simulated(family: str, sizes: list[int], seed: int):
    truth = draw_truth(family, len(sizes), tau=0.3, seed=seed)
    world = simulate_customers(truth, sizes, seed=seed + 1000)
    summary = CustomerSummary.from_frame(
        world.summary_frame(), customer="customer_id", segment="segment"
    )
    return truth, summary


def test_segments_become_a_dim(spec_factory):
    truth, summary = simulated("bg_nbd", [40, 120, 400], seed=3)
    result = fit(summary, spec_factory("bg_nbd", tune=200, draws=200), progress=False)
    params = result.parameters()
    assert list(params["segment"].values) == list(truth.segment_names)
    assert params["r"].dims == ("chain", "draw", "segment")
    posterior = result.frequency["posterior"]
    assert {"log_r_pop", "log_r_tau", "log_r_z"} <= set(posterior.data_vars)
    spend = result.spend_parameters()
    assert spend.sizes["segment"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("family", ["bg_nbd", "pareto_nbd"])
def test_intervals_cover_truth_and_small_segment_shrinks(spec_factory, family):
    spec = spec_factory(family, chains=2, tune=500, draws=500)
    inside = []
    for seed in (1, 2, 3):
        truth, summary = simulated(family, SIZES, seed)
        result = fit(summary, spec, progress=False)
        draws = result.parameters().merge(result.spend_parameters())
        for name in truth.parameter_names:
            low, high = np.quantile(
                draws[name].values.reshape(-1, len(SIZES)), [0.05, 0.95], axis=0
            )
            true = truth.segments[name].values
            inside.extend(((low <= true) & (true <= high)).tolist())
    assert np.mean(inside) >= 0.8, f"90 % intervals covered {np.mean(inside):.0%} of truths"

    # Shrinkage: the 50-customer segment's purchase rate, pooled vs fitted alone.
    truth, summary = simulated(family, SIZES, seed=1)
    pooled = fit(summary, spec_factory(family, spend=False, tune=500, draws=500), progress=False)
    smallest = truth.segment_names[0]
    alone = fit(
        summary.subset([smallest]),
        spec_factory(family, spend=False, tune=500, draws=500),
        progress=False,
    )
    posterior = pooled.frequency["posterior"]
    population = float(posterior["log_rate_pop"].mean())
    pooled_draws = posterior["log_rate"].sel(segment=smallest)
    alone_draws = alone.frequency["posterior"]["log_rate"].sel(segment=smallest)
    # Borrowing strength: the small segment's interval narrows.
    assert float(pooled_draws.std()) < float(alone_draws.std())
    # Pooling pulls toward the population, but jointly over (log_r, log_rate, …): the
    # correlations between a segment's parameters can offset the pull on one of them, so
    # a single parameter's mean is only required not to move away beyond Monte Carlo error.
    # (Seed 1, Pareto/NBD: alone −2.86, pooled −2.84, population −3.03.)
    pooled_mean, alone_mean = float(pooled_draws.mean()), float(alone_draws.mean())
    noise = 3 * np.hypot(float(az.mcse(pooled_draws)), float(az.mcse(alone_draws)))
    toward = np.sign(population - alone_mean)
    assert toward * (pooled_mean - alone_mean) > -noise

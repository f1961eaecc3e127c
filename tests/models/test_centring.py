"""The pilot that chooses each segment's centring: known answers in the normal case."""

import numpy as np
import pymc as pm
import pytest

from bayesclv.data import CustomerSummary
from bayesclv.models import PARETO_NBD, build_frequency_model
from bayesclv.models.centring import centring_weights, choose_centring, segment_modes
from bayesclv.simulate import draw_truth, simulate_customers
from bayesclv.spec import PriorSpec


def test_weights_follow_tau_over_noise_when_tau_is_pinned():
    # 400 segments spread with sd 0.5 around 0: τ's posterior is sharp at ~0.5, so λ_g must
    # be τ²/(τ² + σ_g²) for each segment's own σ_g (the Gaussian optimum).
    rng = np.random.default_rng(0)
    noise = np.tile([0.05, 0.5, 2.0], 400)
    modes = rng.normal(0.0, np.sqrt(0.25 + noise**2))
    weights = centring_weights(modes, noise**2, tau_sigma=1.0)
    for sigma in (0.05, 0.5, 2.0):
        expected = 0.25 / (0.25 + sigma**2)
        assert weights[noise == sigma] == pytest.approx(expected, abs=0.03)


def test_weights_are_near_zero_when_segments_do_not_differ():
    # Identical segments measured with noise 1: τ's posterior piles up near 0.
    rng = np.random.default_rng(1)
    weights = centring_weights(rng.normal(0.0, 1.0, size=30), np.ones(30), tau_sigma=0.5)
    assert weights.max() < 0.15


def test_weights_are_zero_where_the_curvature_is_unknown():
    weights = centring_weights(
        np.array([0.0, 1.0, 2.0]), np.array([0.01, np.inf, 0.01]), tau_sigma=0.5
    )
    assert weights[1] == 0.0
    assert weights[0] > 0.9 and weights[2] > 0.9


def test_modes_and_curvature_match_a_normal_model_exactly():
    # Unpooled normal means with known variance: the mode is the posterior mean and the
    # Laplace sd the posterior sd, both in closed form (prior N(0, 10²)).
    y = {"a": np.array([1.0, 2.0, 3.0, 4.0]), "b": np.array([-1.0, 0.5])}
    with pm.Model(coords={"segment": ["a", "b"]}) as model:
        theta = pm.Normal("theta", 0.0, 10.0, dims="segment")
        for g, (name, values) in enumerate(y.items()):
            pm.Normal(f"y_{name}", theta[g], 2.0, observed=values)
    mode, sd = segment_modes(model)
    for g, values in enumerate(y.values()):
        precision = 1 / 100 + len(values) / 4
        assert mode[0, g] == pytest.approx(values.sum() / 4 / precision, rel=1e-5)
        assert sd[0, g] == pytest.approx(precision**-0.5, rel=1e-4)


def test_pilot_centres_large_segments_more_than_small_ones():
    truth = draw_truth("pareto_nbd", 3, tau=0.3, seed=5)
    world = simulate_customers(truth, [40, 400, 6000], seed=6)
    summary = CustomerSummary.from_frame(
        world.summary_frame(), customer="customer_id", segment="segment"
    )
    unpooled = build_frequency_model(PARETO_NBD, summary, PriorSpec(), pooled=False)
    centring = choose_centring(unpooled, tau_sigma=0.5)
    assert set(centring) == set(PARETO_NBD.unconstrained)
    for weights in centring.values():
        assert np.all((weights >= 0) & (weights <= 1))
    # the purchase rate is the best-identified parameter: centring grows with segment size
    rate = centring["log_rate"]
    assert rate[0] < rate[1] < rate[2]
    assert rate[2] > 0.8


@pytest.mark.slow
def test_new_coordinates_give_the_old_posterior_on_cdnow_master():
    # The same model sampled in the old coordinates (every segment non-centred) and in the
    # pilot's: posterior means of every natural segment parameter agree within Monte Carlo
    # error. 36 comparisons: 3 combined MCSEs each (a 0.3 % false alarm per comparison if
    # the MCSEs are right), and at most one beyond that (P ≈ 0.5 % for two or more).
    import arviz as az

    from bayesclv.models import BG_NBD
    from bayesclv.models.sampling import sample_nuts
    from bayesclv.pipeline import summarise_spec
    from bayesclv.spec import load_spec

    spec = load_spec("models/cdnow_segments.toml").with_sampler(
        chains=4, tune=1000, draws=1000, seed=5
    )
    summary = summarise_spec(spec)

    def build(**pooling):
        return build_frequency_model(BG_NBD, summary, spec.priors, **pooling)

    new = choose_centring(build(pooled=False), spec.priors.tau_sigma)
    draws = {}
    for label, centring in (("old", None), ("new", new)):
        posterior = sample_nuts(build(centring=centring), spec.sampler, progress=False)
        draws[label] = posterior["posterior"].to_dataset()[list(BG_NBD.natural)]
    z = []
    for name in BG_NBD.natural:
        means = {k: draws[k][name].mean(("chain", "draw")) for k in draws}
        mcse = {k: az.mcse(draws[k])[name] for k in draws}
        z.extend(np.abs(means["new"] - means["old"]).values
                 / np.hypot(mcse["new"].values, mcse["old"].values))
    z = np.array(z)
    assert len(z) == 36
    assert np.sum(z > 3.0) <= 1, np.round(z, 1)
    assert z.max() < 4.0, np.round(z, 1)

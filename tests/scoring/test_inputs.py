"""A fit and a summary as arrays: draws paired across the two models, customers matched."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayesclv.errors import DataError
from bayesclv.scoring.inputs import customer_inputs, per_customer, posterior_draws


def test_spend_draws_of_another_shape_are_paired_evenly(spec_factory, fit_factory):
    # [spend_sampler] may give the spend model its own chains and draws: every frequency
    # draw gets one spend draw, evenly spread over all chains of the spend posterior.
    spec = spec_factory("pareto_nbd")
    base = fit_factory(spec, chains=2, draws=50)
    longer = fit_factory(spec, chains=3, draws=70, seed=1).spend
    fit = replace(base, spend=longer)
    post = posterior_draws(fit, thin=5)
    assert post.frequency["r"].shape == post.spend["p"].shape == (20, 1)
    all_p = longer["posterior"]["p"].values.reshape(-1)
    index = np.searchsorted(all_p, post.spend["p"][:, 0], sorter=np.argsort(all_p))
    picked = np.argsort(all_p)[index]
    np.testing.assert_array_equal(picked, np.arange(20) * 210 // 20)  # every chain, in order
    # the same shape: exactly the draws thinning keeps, paired draw for draw
    same = posterior_draws(base, thin=5)
    np.testing.assert_array_equal(
        same.spend["p"][:, 0], base.spend["posterior"]["p"].values[:, ::5, 0].reshape(-1))


def test_customers_keep_summary_order_and_map_to_the_fits_segments(cdnow, spec_factory,
                                                                   fit_factory):
    fit = fit_factory(spec_factory("pareto_nbd"), segments=("other", "all"), draws=2, summary=cdnow)
    inputs = customer_inputs(cdnow, fit)
    assert list(inputs.customer) == list(cdnow.frame.index)
    assert (inputs.code == 1).all()  # "all" is the fit's second segment
    no_spend = inputs.n_spend == 0
    assert no_spend.any() and (inputs.mean_spend[no_spend] == 0).all()
    with pytest.raises(DataError, match="time_unit"):
        customer_inputs(cdnow, replace(fit, time_unit="days"))


def test_per_customer_amounts_from_scalar_array_or_series(cdnow, spec_factory, fit_factory):
    inputs = customer_inputs(cdnow, fit_factory(spec_factory("pareto_nbd"), draws=2, summary=cdnow))
    n = len(inputs)
    assert (per_customer(None, inputs, "cost") == 0).all()
    assert (per_customer(2.5, inputs, "cost") == 2.5).all()
    by_id = pd.Series(np.arange(n, dtype=float), index=inputs.customer[::-1])
    np.testing.assert_array_equal(per_customer(by_id, inputs, "cost"), np.arange(n)[::-1])
    with pytest.raises(DataError, match="cost has no value for 1 customers"):
        per_customer(by_id.iloc[1:], inputs, "cost")
    with pytest.raises(DataError, match=r"cost has shape \(3,\)"):
        per_customer(np.ones(3), inputs, "cost")
    with pytest.raises(DataError, match="cost has non-finite"):
        per_customer(np.full(n, np.nan), inputs, "cost")


@pytest.mark.parametrize("by_history", [False, True])
def test_chunks_cover_every_customer_once_and_none_alone(cdnow, spec_factory, fit_factory,
                                                         by_history):
    inputs = customer_inputs(cdnow, fit_factory(spec_factory("bg_nbd"), draws=2, summary=cdnow))
    n = len(inputs)
    assert n == 2 * 1178 + 1  # chunks of 1,178 leave one customer over
    for size in (1, 5, 1178, n - 1, n, 10 * n):
        chunks = inputs.chunks(size, by_history=by_history)
        np.testing.assert_array_equal(np.sort(np.concatenate(chunks)), np.arange(n))
        assert min(map(len, chunks)) >= 2
        assert max(map(len, chunks)) <= max(size, 2) + 1
    order = np.concatenate(inputs.chunks(100, by_history=by_history))
    keys = pd.DataFrame({"code": inputs.code, "x": inputs.x, "T": inputs.T,
                         "t_x": inputs.t_x}).iloc[order]
    if by_history:  # histories in order: (segment, x, T, t_x) never decrease
        pd.testing.assert_frame_equal(keys, keys.sort_values(list(keys.columns), kind="stable"))
    else:
        np.testing.assert_array_equal(order, np.arange(n))
    for bad in (0, -3, 2.5, True):
        with pytest.raises(DataError, match="chunk_size"):
            inputs.chunks(bad)


def test_draw_blocks_keep_whole_chains_and_add_up_to_all_draws(spec_factory, fit_factory):
    post = posterior_draws(fit_factory(spec_factory("pareto_nbd"), chains=3, draws=10), thin=2)
    blocks = list(post.draw_blocks(2))
    assert [block.n_samples for block in blocks] == [6, 6, 3]
    for part in ("frequency", "spend"):
        for name, values in getattr(post, part).items():
            joined = xr.concat([block.unstack(getattr(block, part)[name], ("segment",))
                                for block in blocks], dim="draw")
            xr.testing.assert_identical(joined, post.unstack(values, ("segment",)))


def test_each_customer_is_scored_at_the_parameters_of_their_own_covariates(covariate_fit):
    from bayesclv.clv import clv_draws
    from bayesclv.maths import gammagamma_conditional_mean_spend
    from bayesclv.maths.families import family

    fitted, summary = covariate_fit
    inputs = customer_inputs(summary, fitted)
    assert len(inputs.cells) == 2 * 2 * 3  # segments × channels × ages
    natural = {name: fitted.parameters()[name].values[0, 0] for name in ("r", "alpha", "s", "beta")}
    coef = {p: fitted.coefficients(p).values[0, 0] for p in ("purchase", "dropout", "spend")}
    encoding = fitted.covariates
    seg = summary.segment_codes
    params = family("pareto_nbd").covariate_parameters(
        [natural[n][seg] for n in ("r", "alpha", "s", "beta")],
        encoding.design(summary, ["channel", "age"]) @ coef["purchase"],
        encoding.design(summary, ["channel"]) @ coef["dropout"])
    frame = summary.frame
    history = [frame[c].to_numpy(float) for c in ("x", "t_x", "T")]
    draws = clv_draws(fitted, summary)
    np.testing.assert_allclose(draws["p_alive"].values[0, 0],
                               family("pareto_nbd").p_alive(*params, *history), rtol=1e-12)
    spend = fitted.spend_parameters()
    gamma = spend["gamma"].values[0, 0][seg] * np.exp(
        encoding.design(summary, ["age"]) @ coef["spend"])
    expected = gammagamma_conditional_mean_spend(
        spend["p"].values[0, 0][seg], spend["q"].values[0, 0][seg], gamma,
        frame["n_spend"].to_numpy(float), frame["mean_spend"].fillna(0).to_numpy(float))
    np.testing.assert_allclose(draws["expected_spend"].values[0, 0], expected, rtol=1e-12)


def test_customers_without_the_fits_covariates_are_refused(covariate_fit):
    fitted, summary = covariate_fit
    bare = replace(summary, frame=summary.frame.drop(columns=["channel", "age"]), covariates=())
    with pytest.raises(DataError, match="have no covariate 'channel'"):
        customer_inputs(bare, fitted)


def test_without_covariates_the_cells_are_the_segments(spec_factory, fit_factory, cdnow):
    fitted = fit_factory(spec_factory("bg_nbd"), chains=1, draws=10, summary=cdnow)
    summary = cdnow
    inputs = customer_inputs(summary, fitted)
    np.testing.assert_array_equal(inputs.cell, inputs.code)
    np.testing.assert_array_equal(inputs.cells.segment, np.arange(len(fitted.segments)))

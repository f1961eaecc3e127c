"""Covariates in the models: the likelihoods are the per-customer ones at each customer's
shifted parameters, cells group exactly the customers that share them, and a MAP fit finds
known coefficients again."""

import numpy as np
import pandas as pd
import pytensor
import pytest

from bayesclv.data import ColumnMap, CovariateEncoding, summarise, with_covariates
from bayesclv.maths import gammagamma_loglik
from bayesclv.maths.families import family as family_record
from bayesclv.models.covariates import CovariateTerms
from bayesclv.models.fit import Fit, fit
from bayesclv.models.frequency import FAMILIES, build_frequency_model
from bayesclv.models.spend import build_gamma_gamma
from bayesclv.simulate import draw_truth
from bayesclv.simulate.covariates import simulate_with_covariates
from bayesclv.spec import CovariateSpec, ModelSpec, PriorSpec

VALUES = {"channel": ["email", "web", "store"], "age": [1, 2, 3, 4]}
COEFFICIENTS = {"purchase": {"channel[web]": 0.5, "age": -0.2},
                "dropout": {"channel[store]": -0.7},
                "spend": {"channel[web]": 0.3}}
COVARIATES = CovariateSpec(purchase=("channel", "age"), dropout=("channel",),
                           spend=("channel",))


def covariate_world(family: str, size: int, seed: int, coefficients=COEFFICIENTS):
    truth = draw_truth(family, 2, tau=0.3, seed=seed)
    # the models' reference level is the most common one: make it the simulator's (the first)
    world = simulate_with_covariates(truth, size, VALUES, coefficients,
                                     shares={"channel": [0.5, 0.3, 0.2]}, seed=seed + 1)
    log = world.world
    summary = summarise(log.transactions, calibration_end=log.calibration_end,
                        holdout_end=log.holdout_end, observation_end=log.holdout_end,
                        columns=ColumnMap(segment="segment"))
    return world, with_covariates(summary, world.covariates)


def evaluate(model, names, seed):
    rng = np.random.default_rng(seed)
    point = {name: value + rng.normal(0.0, 0.3, np.shape(value))
             for name, value in model.initial_point().items()}
    outputs = model.replace_rvs_by_values([model.potentials[0], *(model[n] for n in names)])
    return pytensor.function(model.value_vars, outputs)(
        *(point[v.name] for v in model.value_vars))


@pytest.mark.parametrize("family_name", ["pareto_nbd", "bg_nbd", "mbg_nbd"])
def test_frequency_potential_is_the_sum_at_each_customers_shifted_parameters(family_name):
    family = FAMILIES[family_name]
    _, summary = covariate_world(family_name, 300, 7)
    terms = CovariateTerms(COVARIATES, CovariateEncoding.learn(summary, COVARIATES.columns))
    model = build_frequency_model(family, summary, PriorSpec(), covariates=terms)
    names = [*family.natural, "purchase_coef", "dropout_coef"]
    potential, *values = evaluate(model, names, 3)
    natural, purchase_coef, dropout_coef = values[:4], values[4], values[5]
    assert np.all(purchase_coef != 0) and np.all(dropout_coef != 0)
    seg = summary.segment_codes
    frame = summary.frame
    shifted = family.maths.covariate_parameters(
        [v[seg] for v in natural],
        terms.encoding.design(summary, COVARIATES.purchase) @ purchase_coef,
        terms.encoding.design(summary, COVARIATES.dropout) @ dropout_coef)
    per_customer = family.loglik(*shifted, frame["x"].to_numpy(float),
                                 frame["t_x"].to_numpy(float), frame["T"].to_numpy(float))
    assert potential == pytest.approx(per_customer.sum(), rel=1e-10)


def test_spend_potential_is_the_sum_at_each_spenders_scaled_gamma():
    _, summary = covariate_world("pareto_nbd", 300, 9)
    terms = CovariateTerms(COVARIATES, CovariateEncoding.learn(summary, COVARIATES.columns))
    model = build_gamma_gamma(summary, PriorSpec(), covariates=terms)
    potential, p, q, gamma, coef = evaluate(model, ["p", "q", "gamma", "spend_coef"], 4)
    spenders = summary.frame["n_spend"].to_numpy() > 0
    seg = summary.segment_codes[spenders]
    shift = (terms.encoding.design(summary, COVARIATES.spend) @ coef)[spenders]
    frame = summary.frame[spenders]
    expected = gammagamma_loglik(p[seg], q[seg], gamma[seg] * np.exp(shift),
                                 frame["n_spend"].to_numpy(float),
                                 frame["mean_spend"].to_numpy(float))
    assert potential == pytest.approx(expected.sum(), rel=1e-10)


def test_cells_group_exactly_the_customers_with_the_same_segment_and_terms():
    _, summary = covariate_world("pareto_nbd", 400, 11)
    terms = CovariateTerms(COVARIATES, CovariateEncoding.learn(summary, COVARIATES.columns))
    cells = terms.cells(summary, summary.segment_codes, ("purchase", "dropout"))
    # 2 segments × 3 channels × 4 ages, every combination drawn with 800 customers
    assert len(cells) == 24
    design = np.column_stack([terms.encoding.design(summary, COVARIATES.purchase),
                              terms.encoding.design(summary, COVARIATES.dropout)])
    rebuilt = np.column_stack([cells.design["purchase"], cells.design["dropout"]])
    np.testing.assert_array_equal(rebuilt[cells.of_customer], design)
    np.testing.assert_array_equal(cells.segment[cells.of_customer], summary.segment_codes)
    spend_only = terms.cells(summary, summary.segment_codes, ("spend",))
    assert len(spend_only) == 6  # only the channel acts on spend


@pytest.mark.parametrize("family_name", ["pareto_nbd", "bg_nbd"])
def test_a_map_fit_finds_the_true_coefficients_again(family_name):
    """6,000 customers: the coefficients' standard errors are ≈ 0.03–0.12 (NUTS on the same
    worlds), so 0.3 is ≥ 2.5 of them for every term."""
    world, summary = covariate_world(family_name, 3000, 21)
    spec = ModelSpec.from_dict({
        "model": {"name": "covariates", "family": family_name},
        "data": {"source": "simulated.csv", "calibration_end": "1997-09-29",
                 "segmentation": "column", "segment_column": "segment"},
        "covariates": {"purchase": ["channel", "age"], "dropout": ["channel"],
                       "spend": ["channel"]},
        "sampler": {"method": "map"},
    })
    fitted = fit(summary, spec, progress=False)
    for process, truth in world.terms.items():
        found = fitted.coefficients(process).isel(chain=0, draw=0).to_series()
        expected = pd.Series({term: truth[term] for term in found.index})
        np.testing.assert_allclose(found.to_numpy(), expected.to_numpy(), atol=0.3,
                                   err_msg=f"{process}: {found.to_dict()}")


def test_a_saved_fit_keeps_its_encoding(tmp_path):
    _, summary = covariate_world("bg_nbd", 300, 31)
    spec = ModelSpec.from_dict({
        "model": {"name": "covariates", "family": "bg_nbd"},
        "data": {"source": "simulated.csv", "calibration_end": "1997-09-29",
                 "segmentation": "column", "segment_column": "segment"},
        "covariates": {"purchase": ["channel"], "dropout": ["age"], "spend": ["channel"]},
        "sampler": {"method": "map"},
    })
    fitted = fit(summary, spec, progress=False)
    loaded = Fit.load(fitted.save(tmp_path / "fit.nc"))
    assert loaded.covariates == fitted.covariates
    assert loaded.covariates.column("channel").levels == ("email", "store", "web")
    table = loaded.summary()
    assert set(table.loc[table["parameter"] == "dropout_coef", "segment"]) == {"age"}
    assert set(table.loc[table["parameter"] == "purchase_coef", "segment"]) == {
        "channel[store]", "channel[web]"}


def test_covariate_parameters_move_the_means_as_documented():
    pareto = family_record("pareto_nbd")
    r, alpha, s, beta = pareto.covariate_parameters([2.0, 4.0, 0.5, 10.0], np.log(3.0),
                                                    np.log(0.5))
    assert r / alpha == pytest.approx(3 * 2.0 / 4.0) and s / beta == pytest.approx(0.5 * 0.05)
    bg = family_record("bg_nbd")
    _, alpha, a, b = bg.covariate_parameters([2.0, 4.0, 1.0, 3.0], 0.0, np.log(2.0))
    assert alpha == 4.0 and a + b == pytest.approx(4.0)
    assert a / b == pytest.approx(2 * 1.0 / 3.0)  # the odds of the mean doubled

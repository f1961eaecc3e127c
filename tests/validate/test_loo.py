"""PSIS-LOO on compressed rows equals the per-customer computation, and names a winner."""

import arviz as az
import numpy as np
import pytest
import xarray as xr

from bayesclv.data import CustomerSummary
from bayesclv.datasets import load_cdnow_summary_39wk
from bayesclv.errors import DataError
from bayesclv.maths import bgnbd_loglik
from bayesclv.models import fit
from bayesclv.validate.loo import compare, loo, pointwise_log_likelihood


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary_39wk()


@pytest.fixture(scope="module")
def fits(cdnow, spec_factory):
    return {
        family: fit(cdnow, spec_factory(family, spend=False, tune=300, draws=300), progress=False)
        for family in ("bg_nbd", "pareto_nbd")
    }


def test_pointwise_log_likelihood_matches_the_closed_form(cdnow, fits):
    result = fits["bg_nbd"]
    ll = pointwise_log_likelihood(result, cdnow)
    assert ll.dims == ("chain", "draw", "customer") and ll.sizes["customer"] == 2357
    params = result.parameters().isel(chain=0, draw=0, segment=0)
    frame = cdnow.frame
    direct = bgnbd_loglik(
        *(float(params[n]) for n in ("r", "alpha", "a", "b")),
        frame["x"].to_numpy(float),
        frame["t_x"].to_numpy(float),
        frame["T"].to_numpy(float),
    )
    np.testing.assert_allclose(ll.isel(chain=0, draw=0).values, direct, rtol=1e-12)


def test_row_weighted_loo_equals_per_customer_loo(cdnow, fits):
    result = fits["pareto_nbd"]
    ll = pointwise_log_likelihood(result, cdnow)
    tree = xr.DataTree.from_dict(
        {
            "posterior": result.frequency["posterior"].to_dataset(),
            "log_likelihood": xr.Dataset({"x": ll.drop_vars(["customer", "segment"])}),
        }
    )
    per_customer = az.loo(tree, pointwise=True)
    compressed = loo(result)
    assert compressed.elpd == pytest.approx(float(per_customer.elpd), rel=1e-9)
    assert compressed.se == pytest.approx(float(per_customer.se), rel=1e-6)


def test_compare_names_the_better_family(fits):
    table = compare(fits)
    assert list(table.columns) == [
        "model", "elpd_loo", "se", "p_loo", "elpd_diff", "diff_se", "n_bad_k"
    ]
    # On CDNOW's sample BG/NBD fits better: its maximum log-likelihood is -9582.4
    # against Pareto/NBD's -9595.0, with the same number of parameters.
    assert table.iloc[0]["model"] == "bg_nbd"
    assert table.iloc[1]["elpd_diff"] == pytest.approx(12.6, abs=3.0)
    assert table["p_loo"].between(2, 8).all()
    assert (table["n_bad_k"] == 0).all()


def test_compare_refuses_different_data(cdnow, fits):
    other = CustomerSummary.from_frame(cdnow.frame.iloc[:500].reset_index())
    small = fit(other, fits["bg_nbd"].spec, progress=False)
    with pytest.raises(DataError, match="fingerprints differ"):
        compare({"a": fits["bg_nbd"], "b": small})
    with pytest.raises(DataError, match="not the one the fit saw"):
        pointwise_log_likelihood(fits["bg_nbd"], other)


def test_with_covariates_each_customer_is_evaluated_at_their_own_parameters(covariate_fit):
    fitted, summary = covariate_fit
    pointwise = pointwise_log_likelihood(fitted, summary).values[0, 0]
    natural = [fitted.parameters()[n].values[0, 0][summary.segment_codes]
               for n in fitted.family.natural]
    design = {p: fitted.covariates.design(summary, getattr(fitted.spec.covariates, p))
              for p in ("purchase", "dropout")}
    shifts = [design[p] @ fitted.coefficients(p).values[0, 0] for p in ("purchase", "dropout")]
    params = fitted.family.maths.covariate_parameters(natural, *shifts)
    frame = summary.frame
    expected = fitted.family.loglik(*params, *(frame[c].to_numpy(float)
                                               for c in ("x", "t_x", "T")))
    np.testing.assert_allclose(pointwise, expected, rtol=1e-10)

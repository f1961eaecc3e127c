"""Case 6 of the robustness issue: a fit applied to data it was not made from.

Every consumer of a fit with a summary refuses customers or histories the fit did not see,
naming what differs, unless told ``customers="new"``; a subset of the fitted customers is
the fitted customers.
"""

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from bayesclv.actions import Action, Effect
from bayesclv.clv import (
    clv_draws,
    predictive_clv,
    score_customers,
    score_to_parquet,
    value_by_period,
    value_tables,
)
from bayesclv.data import CustomerSummary, summarise
from bayesclv.decision import action_values, value_of_information
from bayesclv.errors import DataError
from bayesclv.models import Fit, fit
from bayesclv.report import build_report
from bayesclv.validate import holdout_report


@pytest.fixture(scope="module")
def fitted(cdnow, spec_factory):
    """A MAP fit of the CDNOW sample (calibration end 1997-09-30)."""
    return fit(cdnow, spec_factory("bg_nbd", method="map"), progress=False)


def with_frame(summary: CustomerSummary, frame) -> CustomerSummary:
    return replace(summary, frame=frame)


def changed_history(summary: CustomerSummary) -> CustomerSummary:
    """The same customers, one with an extra repeat purchase."""
    frame = summary.frame.copy()
    frame.iloc[3, frame.columns.get_loc("x")] += 1
    return with_frame(summary, frame)


def other_customers(summary: CustomerSummary) -> CustomerSummary:
    """The same histories under other customers' ids."""
    return with_frame(summary, summary.frame.rename(index=lambda c: f"new-{c}"))


def test_the_fitted_summary_and_subsets_of_it_are_scored(fitted, cdnow):
    whole = clv_draws(fitted, cdnow)
    mask = np.arange(cdnow.n_customers) % 3 == 0
    part = clv_draws(fitted, cdnow.subset(mask))
    xr.testing.assert_equal(part["clv"], whole["clv"].isel(customer=mask))


def test_a_changed_history_is_refused(fitted, cdnow):
    changed = changed_history(cdnow)
    customer = changed.frame.index[3]
    with pytest.raises(DataError, match=rf"1 of the summary's 2357 customers \(e\.g\. "
                                        rf"'{customer}'\) have other histories than the fit "
                                        r"saw .*customers='new'"):
        clv_draws(fitted, changed)
    with pytest.raises(DataError, match="other histories"):  # also within a subset
        clv_draws(fitted, changed.subset(np.arange(changed.n_customers) < 10))


def test_other_customers_are_refused(fitted, cdnow):
    with pytest.raises(DataError, match=r"2357 of the summary's 2357 customers \(e\.g\. "
                                        r"'new-.*'\) are not among the 2357 customers the fit "
                                        r"saw; pass customers='new'"):
        clv_draws(fitted, other_customers(cdnow))


def test_a_changed_calibration_end_is_refused(fitted, cdnow_log):
    later = summarise(cdnow_log, calibration_end="1997-12-31")
    with pytest.raises(DataError, match=r"summary.calibration_end=1997-12-31 but the fit saw "
                                        r"data up to 1997-09-30; pass customers='new' to score "
                                        "this later snapshot"):
        clv_draws(fitted, later)
    assert clv_draws(fitted, later, customers="new").sizes["customer"] == later.n_customers


def test_an_earlier_calibration_end_is_refused_even_for_new_customers(fitted, cdnow_log):
    earlier = summarise(cdnow_log, calibration_end="1997-06-30")
    for customers in ("fitted", "new"):
        with pytest.raises(DataError, match=r"summary.calibration_end=1997-06-30 is before the "
                                            r"end of the data the fit saw \(1997-09-30\)"):
            clv_draws(fitted, earlier, customers=customers)


def test_a_changed_time_unit_is_refused(fitted, cdnow_log):
    in_days = summarise(cdnow_log, calibration_end="1997-09-30", time_unit="days")
    for customers in ("fitted", "new"):
        with pytest.raises(DataError, match="summary.time_unit='days' but the fit is in "
                                            "'weeks'"):
            clv_draws(fitted, in_days, customers=customers)


def test_new_customers_are_scored_when_said(fitted, cdnow):
    other = other_customers(cdnow)
    scored = clv_draws(fitted, other, customers="new")
    np.testing.assert_array_equal(scored["clv"].values, clv_draws(fitted, cdnow)["clv"].values)
    assert clv_draws(fitted, changed_history(cdnow), customers="new").sizes["customer"] == 2357


def test_customers_must_be_fitted_or_new(fitted, cdnow):
    with pytest.raises(DataError, match="customers='all' must be 'fitted'"):
        clv_draws(fitted, cdnow, customers="all")


def test_a_saved_fit_keeps_its_customers(fitted, cdnow, tmp_path):
    loaded = Fit.load(fitted.save(tmp_path / "fit.nc"))
    assert loaded.fitted_customers.calibration_end == fitted.fitted_customers.calibration_end
    assert clv_draws(loaded, cdnow.subset(np.arange(cdnow.n_customers) < 50)).sizes[
        "customer"] == 50
    with pytest.raises(DataError, match="other histories"):
        clv_draws(loaded, changed_history(cdnow))


def test_a_fit_without_its_customers_scores_only_the_whole_summary(fitted, cdnow):
    # a fit saved before fits recorded their customers: only the fingerprint tells
    old = replace(fitted, fitted_customers=None)
    assert clv_draws(old, cdnow).sizes["customer"] == 2357
    with pytest.raises(DataError, match="fingerprints differ\\) and the fit records no "
                                        "customers to check a subset against"):
        clv_draws(old, cdnow.subset(np.arange(cdnow.n_customers) < 50))
    assert clv_draws(old, changed_history(cdnow), customers="new").sizes["customer"] == 2357


def test_a_changed_covariate_is_a_changed_history(covariate_fit):
    result, summary = covariate_fit
    frame = summary.frame.copy()
    frame.iloc[0, frame.columns.get_loc("age")] += 1
    changed = with_frame(summary, frame)
    with pytest.raises(DataError, match="1 of the summary's .* have other histories"):
        clv_draws(result, changed)
    assert clv_draws(result, changed, customers="new").sizes["customer"] == summary.n_customers


ACTION = Action("coupon", 1.0, (Effect("spend", 0.05, 0.15),))


def consumers(tmp_path):
    """Every consumer of a fit with a summary, as f(fit, summary, customers)."""
    small = {"thin": 10}
    return {
        "clv_draws": lambda f, s, c: clv_draws(f, s, customers=c, **small),
        "value_by_period": lambda f, s, c: value_by_period(f, s, customers=c, **small),
        "predictive_clv": lambda f, s, c: predictive_clv(f, s, customers=c, **small),
        "value_tables": lambda f, s, c: value_tables(f, s, customers=c, **small),
        "score_customers": lambda f, s, c: score_customers(f, s, customers=c, **small),
        "score_to_parquet": lambda f, s, c: score_to_parquet(
            f, s, tmp_path / f"{c}.parquet", customers=c, **small),
        "action_values": lambda f, s, c: action_values(f, s, [ACTION], customers=c, **small),
        "value_of_information": lambda f, s, c: value_of_information(
            f, s, [ACTION], customers=c, max_samples=10, n_effect_draws=2),
        "holdout_report": lambda f, s, c: holdout_report(f, s, customers=c, **small),
        "build_report": lambda f, s, c: build_report(f, s, replace(f.spec, actions=(ACTION,)),
                                                     customers=c, thin=10),
    }


@pytest.mark.parametrize("consumer", list(consumers(None)))
def test_every_consumer_checks_the_customers(cdnow, spec_factory, fit_factory, tmp_path,
                                             consumer):
    hand = fit_factory(spec_factory("bg_nbd"), draws=20, summary=cdnow)
    use = consumers(tmp_path)[consumer]
    some = cdnow.subset(np.arange(cdnow.n_customers) < 40)
    use(hand, some, "fitted")
    with pytest.raises(DataError, match="other histories than the fit saw"):
        use(hand, changed_history(some), "fitted")
    with pytest.raises(DataError, match="not among the 2357 customers the fit saw"):
        use(hand, other_customers(some), "fitted")
    use(hand, other_customers(some), "new")


def test_the_pack_says_its_customers_are_new(cdnow, spec_factory, fit_factory):
    hand = fit_factory(spec_factory("bg_nbd"), draws=20, summary=cdnow)
    some = other_customers(cdnow.subset(np.arange(cdnow.n_customers) < 40))
    facts = dict(build_report(hand, some, customers="new").facts)
    assert facts["customers"].endswith("not those the fit saw (scored as new customers with a "
                                       "fit of other data)")
    assert "not those" not in dict(build_report(hand, cdnow.subset(
        np.arange(cdnow.n_customers) < 40)).facts)["customers"]


def test_holdout_columns_are_not_part_of_the_history(fitted, cdnow_log):
    # the fit's summary had a holdout; the same calibration data without one is the same
    without = summarise(cdnow_log, calibration_end="1997-09-30")
    assert clv_draws(fitted, without).sizes["customer"] == 2357

"""Holdout validation: CDNOW numbers, simulated-truth coverage, and the lifetimes benchmark."""

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from bayesclv.data import CustomerSummary
from bayesclv.errors import DataError
from bayesclv.maths import bgnbd_conditional_expected_purchases
from bayesclv.models import Fit, fingerprint, fit
from bayesclv.models.provenance import FittedCustomers
from bayesclv.simulate import draw_truth, simulate_customers
from bayesclv.validate.holdout import holdout_report

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _published_fit(spec, summary: CustomerSummary) -> Fit:
    """The published MLE, a fit of the CDNOW sample's customers (``summary``)."""
    ds = xr.Dataset({k: (("chain", "draw", "segment"), np.full((1, 1, 1), v))
                     for k, v in BG.items()}, coords={"segment": ["all"]})
    return Fit(spec=spec, segments=("all",), time_unit="weeks", fingerprint=fingerprint(summary),
               frequency=xr.DataTree.from_dict({"posterior": ds}), spend=None,
               fitted_customers=FittedCustomers.of(summary))


def test_cdnow_holdout_at_published_bgnbd(cdnow, cdnow_log, spec_factory):
    report = holdout_report(_published_fit(spec_factory("bg_nbd", spend=False), cdnow), cdnow,
                            cdnow_log, seed=1)
    frame = cdnow.frame
    expected = bgnbd_conditional_expected_purchases(*BG.values(), frame["x"], frame["t_x"],
                                                    frame["T"], 39.0)
    np.testing.assert_allclose(report.customers["predicted"], expected, rtol=1e-10)
    row = report.metrics.loc["all customers"]
    # lifetimes' MLE BG/NBD gives MAE 0.7855 and RMSE 1.608 on this split.
    assert row["mae"] == pytest.approx(0.7855, abs=0.002)
    assert row["rmse"] == pytest.approx(1.608, abs=0.003)
    assert 0.85 <= row["coverage"] <= 0.93
    assert row["coverage_inclusive"] >= row["coverage"]
    tracking = report.tracking
    assert len(tracking) == 39
    assert tracking["actual"].iloc[-1] == frame["x_holdout"].sum() == row["total_actual"]
    assert tracking["actual"].is_monotonic_increasing
    # the unconditional line: every customer's E[X(T + 39)] − E[X(T)], summed
    from bayesclv.maths import bgnbd_expected_purchases

    T = frame["T"].to_numpy()
    direct = (bgnbd_expected_purchases(*BG.values(), T + 39.0)
              - bgnbd_expected_purchases(*BG.values(), T)).sum()
    assert tracking["predicted_unconditional"].iloc[-1] == pytest.approx(direct, rel=1e-10)
    # FHL 2005: the model tracks cumulative holdout purchases within ~15 %.
    assert tracking["predicted_conditional"].iloc[-1] == pytest.approx(
        tracking["actual"].iloc[-1], rel=0.15)
    bins = report.by_frequency.loc["all customers"]
    assert list(bins.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert bins["n_customers"].sum() == cdnow.n_customers
    assert bins["predicted_mean"].is_monotonic_increasing


def test_holdout_needs_a_holdout(cdnow, spec_factory):
    with pytest.raises(DataError, match="holdout"):
        holdout_report(_published_fit(spec_factory("bg_nbd", spend=False), cdnow),
                       replace(cdnow, holdout_length=None))


@pytest.mark.slow
def test_simulated_truth_coverage(spec_factory):
    truth = draw_truth("pareto_nbd", 10, tau=0.3, seed=5)
    world = simulate_customers(truth, 500, seed=6)
    summary = CustomerSummary.from_frame(world.summary_frame(), customer="customer_id",
                                         segment="segment")
    summary = replace(summary, holdout_length=39.0)
    result = fit(summary, spec_factory("pareto_nbd", spend=False, tune=500, draws=250),
                 progress=False)
    report = holdout_report(result, summary, seed=2)
    metrics = report.metrics
    assert 0.85 <= metrics.loc["all customers", "coverage"] <= 0.95
    # 10 segment totals at 90 %: 7 or more inside has probability 0.99 under calibration.
    segments = metrics.drop(index="all customers")
    assert segments["total_inside"].sum() >= 7
    assert (segments["total_actual"].to_numpy()
            == world.customers["x_holdout"].groupby("segment").sum().values).all()


@pytest.mark.slow
def test_cdnow_mae_no_worse_than_lifetimes_mle(cdnow, spec_factory):
    from lifetimes import BetaGeoFitter

    frame = cdnow.frame
    mle = BetaGeoFitter().fit(frame["x"], frame["t_x"], frame["T"])
    theirs = mle.conditional_expected_number_of_purchases_up_to_time(
        39.0, frame["x"], frame["t_x"], frame["T"])
    their_mae = float(np.abs(theirs - frame["x_holdout"]).mean())
    result = fit(cdnow, spec_factory("pareto_nbd", spend=False, tune=300, draws=300),
                 progress=False)
    ours = holdout_report(result, cdnow).metrics.loc["all customers", "mae"]
    assert ours <= their_mae


def test_chunks_change_the_random_streams_not_the_answer(cdnow, spec_factory):
    # Simulating 500 customers at a time (bounded memory) gives the same deterministic
    # columns and totals, and coverage within Monte Carlo error of one chunk.
    fit_ = _published_fit(spec_factory("bg_nbd", spend=False), cdnow)
    whole = holdout_report(fit_, cdnow, seed=4)
    chunked = holdout_report(fit_, cdnow, seed=4, chunk_size=500)
    for column in ("segment", "actual", "predicted", "error"):
        assert whole.customers[column].equals(chunked.customers[column])
    a, b = whole.metrics.loc["all customers"], chunked.metrics.loc["all customers"]
    assert a["total_actual"] == b["total_actual"]
    assert abs(a["coverage"] - b["coverage"]) < 0.03
    # 400 simulated futures per customer: the interval of the total moves by MC error only
    assert abs(a["total_low"] - b["total_low"]) < 0.05 * a["total_low"]
    with pytest.raises(DataError, match="chunk_size"):
        holdout_report(fit_, cdnow, chunk_size=0)

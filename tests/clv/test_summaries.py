"""Tables, intervals of summed draws, predictive CLV, churn and chunked scoring."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import xarray as xr

from bayesclv.clv import (
    churn_by_segment,
    churn_watchlist,
    clv_draws,
    customer_equity,
    customer_table,
    predictive_clv,
    predictive_table,
    score_customers,
    score_to_parquet,
    segment_totals,
    value_tables,
)
from bayesclv.data import CustomerSummary, summarise
from bayesclv.spec import ValueSpec


@pytest.fixture(scope="module")
def draws(cdnow, spec_factory, fit_factory):
    return clv_draws(fit_factory(spec_factory("pareto_nbd"), draws=100, summary=cdnow), cdnow)


def test_customer_table_has_level_in_column_names(draws):
    table = customer_table(draws, variables=["clv", "p_alive"], hdi_prob=0.8)
    assert {"clv_mean", "clv_median", "clv_sd", "clv_hdi_80%_low", "clv_hdi_80%_high",
            "p_alive_hdi_80%_high"} <= set(table.columns)
    assert table.index.name == "customer" and table["segment"].eq("all").all()
    assert (table["clv_hdi_80%_low"] <= table["clv_median"]).all()
    assert (table["clv_median"] <= table["clv_hdi_80%_high"]).all()
    assert "p_alive_hdi_90%_low" in customer_table(draws).columns


def test_interval_of_sums_is_not_sum_of_intervals(cdnow, spec_factory, fit_factory):
    frame = cdnow.frame.reset_index()
    frame["segment"] = np.where(np.arange(len(frame)) % 2 == 0, "even", "odd")
    summary = CustomerSummary.from_frame(frame, segment="segment")
    fit = fit_factory(spec_factory("pareto_nbd"), segments=("even", "odd"), draws=200,
                      summary=summary)
    draws = clv_draws(fit, summary)
    equity = customer_equity(draws)
    table = customer_table(draws, variables=["clv"])
    total = equity.loc["portfolio"]
    assert total["clv_mean"] == pytest.approx(table["clv_mean"].sum(), rel=1e-10)
    assert list(equity["n_customers"]) == [1179, 1178, 2357]
    # The segments' parameters are independent: adding their intervals overstates the
    # spread of the sum (≈ 1/√2 of it here).
    width = equity["clv_hdi_90%_high"] - equity["clv_hdi_90%_low"]
    assert width["portfolio"] < 0.85 * (width["even"] + width["odd"])
    assert (equity["clv_hdi_90%_high"]["even"] + equity["clv_hdi_90%_high"]["odd"]
            != pytest.approx(total["clv_hdi_90%_high"], rel=0.01))


def test_predictive_interval_is_wider_and_labelled(cdnow, spec_factory, fit_factory, draws):
    fit = fit_factory(spec_factory("pareto_nbd"), draws=100, summary=cdnow)
    predictive = predictive_clv(fit, cdnow, seed=1)
    assert predictive.attrs["uncertainty"] == "parameter + outcome uncertainty"
    table = predictive_table(draws, predictive)
    assert table.attrs["expected"] == "parameter uncertainty"
    width = lambda kind: table[f"{kind}_clv_hdi_90%_high"] - table[f"{kind}_clv_hdi_90%_low"]  # noqa: E731
    assert width("predictive").mean() > 2 * width("expected").mean()
    # Same expectation: the portfolio means agree within simulation noise.
    assert table["predictive_clv_mean"].sum() == pytest.approx(table["expected_clv_mean"].sum(),
                                                               rel=0.03)


def test_value_at_risk_definition_and_ranking(draws):
    p = draws["p_alive"]
    np.testing.assert_allclose(draws["value_at_risk"] * p, (1 - p) * draws["clv"], atol=1e-9)
    watch = churn_watchlist(draws, top=50)
    assert list(watch["rank"]) == list(range(1, 51))
    assert watch["value_at_risk_mean"].is_monotonic_decreasing
    by_segment = churn_by_segment(draws, p_alive_threshold=0.5)
    row = by_segment.loc["portfolio"]
    assert row["n_at_risk"] == int((p.mean(("chain", "draw")) < 0.5).sum())
    assert row["flagged_value_at_risk_mean"] <= row["value_at_risk_mean"]
    assert 0 < row["share_of_value_at_risk"] < 1


def test_churn_counts_each_segment_in_its_own_row(cdnow_log, spec_factory, fit_factory):
    # customers appear in the order b, a, c; the fit (and every table) lists a, b, c
    ids = cdnow_log["customer_id"].unique()
    segments = pd.Series(np.array(["b", "a", "c"])[np.arange(ids.size) % 3], index=ids)
    summary = summarise(cdnow_log, calibration_end="1997-09-30", segments=segments)
    fit = fit_factory(spec_factory("pareto_nbd"), segments=("a", "b", "c"), draws=5,
                      scale={"s": [0.3, 1.0, 3.0]}, summary=summary)
    draws = clv_draws(fit, summary)
    table = churn_by_segment(draws)
    flagged = draws["p_alive"].mean(("chain", "draw")).values < 0.5
    risk = draws["value_at_risk"].mean(("chain", "draw")).values
    label = draws["segment"].values
    for segment in ("a", "b", "c"):
        mask = flagged & (label == segment)
        assert table.loc[segment, "n_at_risk"] == mask.sum()
        assert table.loc[segment, "flagged_value_at_risk_mean"] == pytest.approx(
            risk[mask].sum(), rel=1e-9)
    assert len(set(table["n_at_risk"].iloc[:3])) == 3


def test_predictive_chunks_change_the_random_streams_not_the_answer(cdnow, spec_factory,
                                                                    fit_factory):
    fit = fit_factory(spec_factory("bg_nbd"), draws=100, summary=cdnow)
    whole = predictive_clv(fit, cdnow, seed=3, chunk_size=10**6)  # one chunk
    chunked = predictive_clv(fit, cdnow, seed=3, chunk_size=500)
    xr.testing.assert_identical(predictive_clv(fit, cdnow, seed=3, chunk_size=500), chunked)
    assert not np.array_equal(chunked["purchases"], whole["purchases"])
    # the same draws with other outcomes: the portfolio's value differs by simulation noise
    gap = (chunked["clv"] - whole["clv"]).sum("customer")
    assert abs(float(gap.mean())) < 4 * float(gap.std()) / np.sqrt(gap.size)


@pytest.mark.parametrize("family", ["pareto_nbd", "bg_nbd"])
def test_value_tables_are_those_of_the_draws_number_for_number(cdnow_log, spec_factory,
                                                                fit_factory, family):
    ids = cdnow_log["customer_id"].unique()
    segments = pd.Series(np.array(["b", "a", "c"])[np.arange(ids.size) % 3], index=ids)
    summary = summarise(cdnow_log, calibration_end="1997-09-30", segments=segments)
    fit = fit_factory(spec_factory(family), segments=("a", "b", "c"), chains=3, draws=16,
                      scale={"r": [0.5, 1.0, 2.0]}, summary=summary)
    draws = clv_draws(fit, summary, thin=2, retention_cost=1.5)
    expected = {"customers": customer_table(draws), "equity": customer_equity(draws),
                "churn": churn_by_segment(draws), "watchlist": churn_watchlist(draws, top=40)}
    # 589: 2,357 customers = 4 × 589 + 1 (a lone last one), blocks of one draw; one chunk
    for chunk_size in (589, 100_000):
        tables = value_tables(fit, summary, thin=2, retention_cost=1.5, top=40,
                              chunk_size=chunk_size)
        for name, table in expected.items():
            pd.testing.assert_frame_equal(getattr(tables, name), table, check_exact=True)


def test_chunked_scoring_equals_in_memory(cdnow, spec_factory, fit_factory, tmp_path):
    fit = fit_factory(spec_factory("bg_nbd"), draws=40, summary=cdnow)
    value = ValueSpec(horizon_months=12)
    direct = clv_draws(fit, cdnow, value=value, thin=2)
    scores = score_customers(fit, cdnow, value=value, thin=2, chunk_size=333)
    expected = customer_table(direct, variables=list(scores.table.columns[1::5].str[:-5]))
    pd.testing.assert_frame_equal(scores.table, expected, check_exact=False, rtol=1e-10,
                                  check_index_type=False, check_dtype=False)
    np.testing.assert_allclose(scores.totals["clv"], segment_totals(direct)["clv"], rtol=1e-10)
    totals = score_to_parquet(fit, cdnow, tmp_path / "scores.parquet", value=value, thin=2,
                              chunk_size=1000)
    stored = pq.ParquetFile(tmp_path / "scores.parquet")
    assert stored.metadata.num_row_groups == 3 and stored.metadata.num_rows == cdnow.n_customers
    assert b"bayesclv.value_kind" in stored.schema_arrow.metadata
    frame = stored.read().to_pandas().set_index("customer").loc[scores.table.index]
    np.testing.assert_allclose(frame["clv_mean"], scores.table["clv_mean"], rtol=1e-12)
    np.testing.assert_allclose(totals["clv"], scores.totals["clv"], rtol=1e-10)


def test_totals_follow_the_fits_segment_order_not_the_customers(spec_factory, fit_factory):
    from bayesclv.clv import clv_draws, customer_equity
    from bayesclv.data import CustomerSummary
    from bayesclv.scoring.summaries import ordered_segments

    frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment": ["z", "m", "z", "a"],
                          "x": [1, 0, 2, 0], "t_x": [3.0, 0.0, 5.0, 0.0],
                          "T": [10.0, 8.0, 9.0, 7.0], "mean_spend": [20.0, None, 30.0, None]})
    summary = CustomerSummary.from_frame(frame, customer="customer_id", segment="segment",
                                         segment_order=["m", "z", "a"])
    fit = fit_factory(spec_factory(), segments=("m", "z", "a"), draws=10, summary=summary)
    equity = customer_equity(clv_draws(fit, summary))
    assert list(equity.index) == ["m", "z", "a", "portfolio"]  # not z, m, a (appearance)
    assert ordered_segments(np.array(["z", "q", "m"]), ["m", "z"]) == ["m", "z", "q"]

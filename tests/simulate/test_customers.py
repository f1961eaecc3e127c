"""Tests for bayesclv.simulate: the simulator against closed-form moments and an
independent transaction-log summariser."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.special import hyp2f1

from bayesclv.errors import SpecError
from bayesclv.simulate import (
    DEFAULT_POPULATION,
    HierarchicalTruth,
    SimulatedWorld,
    draw_truth,
    simulate_customers,
)

N_LARGE = 100_000
UNEQUAL_SIZES = [50, 200, 800, 2000, 5000]


def pareto_nbd_expected_purchases(t, r, alpha, s, beta):
    """E[X(t)] of the Pareto/NBD (Schmittlein, Morrison & Colombo 1987), s != 1."""
    return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))


def bg_nbd_expected_purchases(t, r, alpha, a, b):
    """E[X(t)] of the BG/NBD (Fader, Hardie & Lee 2005, eq. 9)."""
    hyp = hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def mbg_nbd_expected_purchases(t, r, alpha, a, b):
    """E[X(t)] of the MBG/NBD (Batislam, Denizel & Filiztekin 2007)."""
    hyp = hyp2f1(r, b + 1, a + b, t / (alpha + t))
    return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def summarise(transactions, calibration_end, holdout_end):
    """Reference summariser: same-day purchases are one occasion with summed amount."""
    occasions = transactions.groupby(["customer_id", "date"], as_index=False).agg(
        amount=("amount", "sum"), segment=("segment", "first")
    )
    first_day = occasions.groupby("customer_id")["date"].transform("min")
    calibration = occasions[occasions["date"] <= calibration_end]
    holdout = occasions[(occasions["date"] > calibration_end) & (occasions["date"] <= holdout_end)]
    by_customer = calibration.groupby("customer_id")
    first, last = by_customer["date"].min(), by_customer["date"].max()
    summary = pd.DataFrame(
        {
            "segment": by_customer["segment"].first(),
            "x": by_customer.size() - 1,
            "t_x": (last - first).dt.days / 7,
            "T": (calibration_end - first).dt.days / 7,
        }
    )
    repeat = calibration[calibration["date"] > first_day.loc[calibration.index]]
    repeat_by_customer = repeat.groupby("customer_id")["amount"]
    summary["n_spend"] = repeat_by_customer.size().reindex(summary.index, fill_value=0)
    summary["mean_spend"] = repeat_by_customer.mean().reindex(summary.index)
    summary["x_holdout"] = (
        holdout.groupby("customer_id").size().reindex(summary.index, fill_value=0)
    )
    return summary.rename_axis("customer_id").reset_index()


def spend_extras(transactions, calibration_end):
    """Reference first-day and holdout spend per customer, in customer order."""
    by_customer = transactions.groupby("customer_id")
    first_day = by_customer["date"].transform("min")
    first = transactions[transactions["date"] == first_day].groupby("customer_id")["amount"]
    holdout = transactions[transactions["date"] > calibration_end].groupby("customer_id")
    return pd.DataFrame(
        {
            "first_amount": first.sum(),
            "spend_holdout": holdout["amount"].sum().reindex(first.sum().index, fill_value=0.0),
        }
    )


@pytest.fixture(scope="module")
def pareto_world() -> SimulatedWorld:
    truth = draw_truth("pareto_nbd", 1, tau=0.0, seed=0)
    return simulate_customers(truth, N_LARGE, seed=1)


@pytest.fixture(scope="module")
def bg_world() -> SimulatedWorld:
    truth = draw_truth("bg_nbd", 1, tau=0.0, seed=0)
    return simulate_customers(truth, N_LARGE, seed=2)


@pytest.fixture(scope="module")
def mbg_world() -> SimulatedWorld:
    truth = draw_truth("mbg_nbd", 1, tau=0.0, seed=0)
    return simulate_customers(truth, N_LARGE, seed=5)


@pytest.fixture(scope="module", params=["pareto_nbd", "bg_nbd"])
def unequal_world(request) -> SimulatedWorld:
    truth = draw_truth(request.param, len(UNEQUAL_SIZES), tau=0.4, seed=3)
    return simulate_customers(truth, UNEQUAL_SIZES, seed=4)


def one_segment(world: SimulatedWorld) -> dict[str, float]:
    return {name: float(world.truth.segments[name].item()) for name in world.truth.parameter_names}


# --- reproducibility -------------------------------------------------------------


@pytest.mark.parametrize("family", ["pareto_nbd", "bg_nbd", "mbg_nbd"])
def test_same_seed_same_world_other_seed_other_world(family):
    truth = draw_truth(family, 3, seed=7)
    assert draw_truth(family, 3, seed=7).segments.identical(truth.segments)
    first = simulate_customers(truth, [30, 60, 90], seed=11)
    again = simulate_customers(truth, [30, 60, 90], seed=11)
    other = simulate_customers(truth, [30, 60, 90], seed=12)
    pd.testing.assert_frame_equal(first.transactions, again.transactions)
    assert first.customers.identical(again.customers)
    assert not first.transactions.equals(other.transactions)
    assert not draw_truth(family, 3, seed=8).segments.identical(truth.segments)


# --- the truth ---------------------------------------------------------------------


def test_explicit_z_gives_log_linear_segment_parameters():
    z = {"r": [-1.0, 0.0, 2.0], "beta": [0.5, 0.5, -0.5]}
    truth = draw_truth(
        "pareto_nbd", ["north", "south", "west"], tau={"r": 0.3, "beta": 0.2}, z=z, seed=0
    )
    population = DEFAULT_POPULATION["pareto_nbd"]
    np.testing.assert_allclose(
        np.log(truth.segments["r"]), np.log(population["r"]) + 0.3 * np.array(z["r"])
    )
    np.testing.assert_allclose(
        np.log(truth.segments["beta"]), np.log(population["beta"]) + 0.2 * np.array(z["beta"])
    )
    assert truth.segment_names == ["north", "south", "west"]
    # Fixing z for some parameters leaves the random draws of the others alone.
    unfixed = draw_truth(
        "pareto_nbd", ["north", "south", "west"], tau={"r": 0.3, "beta": 0.2}, seed=0
    )
    xr.testing.assert_identical(truth.segments["alpha"], unfixed.segments["alpha"])


def test_tau_zero_puts_every_segment_at_the_population():
    population = {"r": 1.5, "alpha": 3.0, "a": 2.0, "b": 5.0}
    truth = draw_truth("bg_nbd", 4, population=population, tau=0.0, seed=1)
    for name, value in {**DEFAULT_POPULATION["bg_nbd"], **population}.items():
        np.testing.assert_allclose(truth.segments[name], value)
    assert truth.segment_names == ["seg1", "seg2", "seg3", "seg4"]


def test_segment_log_parameters_spread_with_sd_tau():
    n_segments, tau = 4000, 0.5
    truth = draw_truth("pareto_nbd", n_segments, tau=tau, seed=5)
    log_r = np.log(truth.segments["r"].to_numpy())
    # Mean of n N(log r_pop, tau^2) draws has SE tau/sqrt(n); the sample SD has
    # SE about tau/sqrt(2(n-1)).
    assert abs(log_r.mean() - np.log(DEFAULT_POPULATION["pareto_nbd"]["r"])) < (
        4 * tau / np.sqrt(n_segments)
    )
    assert abs(log_r.std(ddof=1) - tau) < 4 * tau / np.sqrt(2 * (n_segments - 1))


def test_from_frame_keeps_explicit_parameters():
    frame = pd.DataFrame(
        {"r": [0.5, 0.9], "alpha": [10.0, 4.0], "s": [0.6, 1.2], "beta": [12.0, 8.0]}
        | {"p": [6.0, 6.0], "q": [4.0, 4.0], "gamma": [15.0, 15.0]},
        index=["web", "store"],
    )
    truth = HierarchicalTruth.from_frame("pareto_nbd", frame)
    assert truth.segment_names == ["web", "store"]
    np.testing.assert_array_equal(truth.segments["s"], [0.6, 1.2])
    assert truth.population is None and truth.tau is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: draw_truth("weibull", 2), "family"),
        (lambda: draw_truth("bg_nbd", 2, population={"s": 1.0}), "unknown parameter"),
        (lambda: draw_truth("bg_nbd", 2, population={"a": -1.0}), "population"),
        (lambda: draw_truth("bg_nbd", 2, tau=-0.1), "tau"),
        (lambda: draw_truth("bg_nbd", 2, z={"a": [1.0]}), "one value per segment"),
        (lambda: draw_truth("bg_nbd", ["x", "x"]), "duplicate"),
        (lambda: simulate_customers(draw_truth("bg_nbd", 2), [10]), "sizes"),
        (lambda: simulate_customers(draw_truth("bg_nbd", 2), [10, 0]), "positive"),
        (lambda: simulate_customers(draw_truth("bg_nbd", 1), {"nope": 3}), "unknown"),
        (
            lambda: simulate_customers(
                draw_truth("bg_nbd", 1), 5, calibration_weeks=10, acquisition_weeks=12
            ),
            "acquisition_weeks",
        ),
        (lambda: simulate_customers(draw_truth("bg_nbd", 1), 5, holdout_weeks=2.5), "holdout"),
    ],
)
def test_bad_arguments_raise_spec_error_naming_them(call, message):
    with pytest.raises(SpecError, match=message):
        call()


# --- Pareto/NBD against closed forms ------------------------------------------------


def test_pareto_nbd_fraction_alive_matches_closed_form(pareto_world):
    params = one_segment(pareto_world)
    T = pareto_world.customers["T"].to_numpy()
    p_alive = (params["beta"] / (params["beta"] + T)) ** params["s"]
    alive = pareto_world.customers["alive"].to_numpy()
    se = np.sqrt(np.sum(p_alive * (1 - p_alive))) / T.size
    assert abs(alive.mean() - p_alive.mean()) < 4 * se


def test_pareto_nbd_mean_calibration_purchases_match_closed_form(pareto_world):
    params = one_segment(pareto_world)
    customers = pareto_world.customers
    expected = pareto_nbd_expected_purchases(
        customers["T"].to_numpy(), params["r"], params["alpha"], params["s"], params["beta"]
    )
    events = customers["events_calibration"].to_numpy()
    se = events.std(ddof=1) / np.sqrt(events.size)
    assert abs(events.mean() - expected.mean()) < 4 * se


def test_pareto_nbd_holdout_purchases_match_closed_form_difference(pareto_world):
    # E[X(T, T + H)] = E[X(T + H)] - E[X(T)] for a customer observed from time 0.
    params = one_segment(pareto_world)
    customers = pareto_world.customers
    T = customers["T"].to_numpy()
    horizon = (pareto_world.holdout_end - pareto_world.calibration_end).days / 7
    args = (params["r"], params["alpha"], params["s"], params["beta"])
    expected = pareto_nbd_expected_purchases(T + horizon, *args) - pareto_nbd_expected_purchases(
        T, *args
    )
    events = customers["events_holdout"].to_numpy()
    se = events.std(ddof=1) / np.sqrt(events.size)
    assert abs(events.mean() - expected.mean()) < 4 * se


# --- BG/NBD against closed forms ---------------------------------------------------


def test_bg_nbd_mean_calibration_purchases_match_closed_form(bg_world):
    params = one_segment(bg_world)
    customers = bg_world.customers
    expected = bg_nbd_expected_purchases(
        customers["T"].to_numpy(), params["r"], params["alpha"], params["a"], params["b"]
    )
    events = customers["events_calibration"].to_numpy()
    se = events.std(ddof=1) / np.sqrt(events.size)
    assert abs(events.mean() - expected.mean()) < 4 * se


def test_bg_nbd_fraction_alive_matches_closed_form(bg_world):
    # P(dropped by t) integrates p over Beta(a, b) and lambda over Gamma(r, alpha):
    # P(alive at t) = 1 - E[1 - e^{-p lambda t}] = E[(alpha / (alpha + p t))^r].  The
    # outer expectation over p ~ Beta(a, b) is done by quadrature here.
    params = one_segment(bg_world)
    T = bg_world.customers["T"].to_numpy()
    beta_pdf = stats.beta(params["a"], params["b"]).pdf
    unique_T, counts = np.unique(T, return_counts=True)
    p_alive = np.array(
        [
            integrate.quad(
                lambda p, t=t: (
                    beta_pdf(p) * (params["alpha"] / (params["alpha"] + p * t)) ** params["r"]
                ),
                0,
                1,
            )[0]
            for t in unique_T
        ]
    )
    per_customer = np.repeat(p_alive, counts)
    alive = bg_world.customers.sortby("T")["alive"].to_numpy()
    se = np.sqrt(np.sum(per_customer * (1 - per_customer))) / T.size
    assert abs(alive.mean() - per_customer.mean()) < 4 * se


# --- MBG/NBD against closed forms --------------------------------------------------


def test_mbg_nbd_mean_calibration_purchases_match_closed_form(mbg_world):
    params = one_segment(mbg_world)
    customers = mbg_world.customers
    expected = mbg_nbd_expected_purchases(
        customers["T"].to_numpy(), params["r"], params["alpha"], params["a"], params["b"]
    )
    events = customers["events_calibration"].to_numpy()
    se = events.std(ddof=1) / np.sqrt(events.size)
    assert abs(events.mean() - expected.mean()) < 4 * se


def test_mbg_nbd_fraction_alive_matches_closed_form(mbg_world):
    # As for BG/NBD, with the chance at the first purchase survived first:
    # P(alive at t) = E[(1 - p) (alpha / (alpha + p t))^r], over p ~ Beta(a, b) by quadrature.
    params = one_segment(mbg_world)
    customers = mbg_world.customers
    T = customers["T"].to_numpy()
    beta_pdf = stats.beta(params["a"], params["b"]).pdf
    unique_T, inverse = np.unique(T, return_inverse=True)
    p_alive = np.array([
        integrate.quad(
            lambda p, t=t: (
                beta_pdf(p) * (1 - p) * (params["alpha"] / (params["alpha"] + p * t)) ** params["r"]
            ),
            0,
            1,
        )[0]
        for t in unique_T
    ])[inverse]
    alive = customers["alive"].to_numpy()
    se = np.sqrt(np.sum(p_alive * (1 - p_alive))) / T.size
    assert abs(alive.mean() - p_alive.mean()) < 4 * se


def test_mbg_nbd_customers_gone_at_the_first_purchase_never_buy_again(mbg_world):
    params = one_segment(mbg_world)
    customers = mbg_world.customers
    gone = customers["dropout_time"].to_numpy() == 0
    share = params["a"] / (params["a"] + params["b"])
    assert abs(gone.mean() - share) < 4 * np.sqrt(share * (1 - share) / gone.size)
    bought = customers["x"].to_numpy() + customers["x_holdout"].to_numpy()
    assert bought[gone].sum() == 0 and not customers["alive"].to_numpy()[gone].any()


# --- Gamma-Gamma spend ---------------------------------------------------------------


def test_gamma_gamma_mean_transaction_value_matches_closed_form(pareto_world):
    # One transaction per customer (the first) keeps the draws independent.
    params = one_segment(pareto_world)
    first = pareto_world.transactions.drop_duplicates("customer_id")["amount"].to_numpy()
    expected = params["p"] * params["gamma"] / (params["q"] - 1)
    se = first.std(ddof=1) / np.sqrt(first.size)
    assert abs(first.mean() - expected) < 4 * se


# --- the summary and the log ---------------------------------------------------------


def test_summary_frame_invariants_and_segment_sizes(unequal_world):
    summary = unequal_world.summary_frame()
    assert list(summary.columns) == [
        "customer_id",
        "segment",
        "x",
        "t_x",
        "T",
        "n_spend",
        "mean_spend",
        "x_holdout",
    ]
    assert (summary["x"] >= 0).all()
    assert ((summary["t_x"] >= 0) & (summary["t_x"] <= summary["T"])).all()
    assert ((summary["t_x"] == 0) == (summary["x"] == 0)).all()
    assert ((summary["mean_spend"] > 0) == (summary["x"] > 0)).all()
    assert (summary["mean_spend"].isna() == (summary["x"] == 0)).all()
    assert (summary["n_spend"] == summary["x"]).all()
    sizes = summary["segment"].value_counts().reindex(unequal_world.truth.segment_names)
    assert sizes.tolist() == UNEQUAL_SIZES
    assert summary["customer_id"].is_unique


def test_summary_frame_equals_independent_summary_of_the_log(unequal_world):
    reference = summarise(
        unequal_world.transactions, unequal_world.calibration_end, unequal_world.holdout_end
    )
    summary = unequal_world.summary_frame()
    pd.testing.assert_frame_equal(summary, reference, check_dtype=False, check_exact=False)
    extras = spend_extras(unequal_world.transactions, unequal_world.calibration_end)
    for name in ["first_amount", "spend_holdout"]:
        np.testing.assert_allclose(unequal_world.customers[name], extras[name])


def test_log_has_one_occasion_per_day_within_the_periods(unequal_world):
    log = unequal_world.transactions
    assert not log.duplicated(["customer_id", "date"]).any()
    assert log["date"].max() <= unequal_world.holdout_end
    assert (log["amount"] >= 0.01).all()
    assert np.array_equal(log["amount"], log["amount"].round(2))
    assert (log["date"] == log["date"].dt.normalize()).all()
    customers = unequal_world.customers
    x, events = customers["x"], customers["events_calibration"]
    assert bool((x <= events).all())
    assert bool((customers["x_holdout"] <= customers["events_holdout"]).all())


def test_customer_truth_is_consistent_with_dropout(unequal_world):
    customers = unequal_world.customers
    assert bool((customers["alive"] == (customers["dropout_time"] > customers["T"])).all())
    # The dead buy nothing after dropping out; a purchase lands on the day it
    # happens, at most one day (1/7 week) after its continuous time.
    dead = ~customers["alive"]
    assert int(customers["x_holdout"].where(dead, 0).sum()) == 0
    assert bool((customers["t_x"] <= customers["dropout_time"] + 1 / 7).all())
    first_dates = pd.to_datetime(customers["first_date"].to_numpy())
    np.testing.assert_array_equal(
        customers["T"].to_numpy(), (unequal_world.calibration_end - first_dates).days / 7
    )


@settings(max_examples=20, deadline=None)
@given(
    family=st.sampled_from(["pareto_nbd", "bg_nbd", "mbg_nbd"]),
    calibration_weeks=st.integers(1, 30),
    holdout_weeks=st.integers(0, 10),
    seed=st.integers(0, 2**32 - 1),
    heavy=st.booleans(),
)
def test_summary_matches_log_for_any_periods(family, calibration_weeks, holdout_weeks, seed, heavy):
    # Heavy buyers (about 5 purchases a week) make same-day merging common.
    population = {"r": 5.0, "alpha": 1.0} if heavy else None
    truth = draw_truth(family, 2, population=population, seed=seed)
    world = simulate_customers(
        truth,
        [40, 7],
        calibration_weeks=calibration_weeks,
        holdout_weeks=holdout_weeks,
        acquisition_weeks=max(1, calibration_weeks // 2),
        start_date="2024-02-26",
        seed=seed,
    )
    summary = world.summary_frame()
    reference = summarise(world.transactions, world.calibration_end, world.holdout_end)
    pd.testing.assert_frame_equal(summary, reference, check_dtype=False, check_exact=False)
    assert world.calibration_end == pd.Timestamp("2024-02-26") + pd.Timedelta(
        days=7 * calibration_weeks - 1
    )
    assert (world.holdout_end - world.calibration_end).days == 7 * holdout_weeks

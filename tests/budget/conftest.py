"""Synthetic action values in the shape of :func:`bayesclv.decision.action_values`."""

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
import xarray as xr

from bayesclv.budget.options import Options, exact_amount, exact_spend


def build_action_values(values: np.ndarray, cost: Sequence[float],
                        fixed_cost: Sequence[float] | None = None, *,
                        segments: Sequence[str] | None = None,
                        eligible: np.ndarray | None = None) -> xr.Dataset:
    """Action values from draws (chain, draw, customer, action); NaN where not eligible."""
    n_chains, n_draws, n_customers, n_actions = values.shape
    if eligible is None:
        eligible = np.ones((n_customers, n_actions), dtype=bool)
    values = np.where(eligible[None, None], values, np.nan)
    segments = segments if segments is not None else ["all"] * n_customers
    return xr.Dataset(
        {"incremental_value": (("chain", "draw", "customer", "action"), values,
                               {"units": "EUR"}),
         "eligible": (("customer", "action"), eligible)},
        coords={
            "chain": np.arange(n_chains),
            "draw": np.arange(n_draws),
            "customer": [f"c{i:05d}" for i in range(n_customers)],
            "segment": ("customer", list(segments)),
            "action": [f"a{k}" for k in range(n_actions)],
            "cost": ("action", np.asarray(cost, dtype=float)),
            "fixed_cost": ("action", np.zeros(n_actions) if fixed_cost is None
                           else np.asarray(fixed_cost, dtype=float)),
        },
        attrs={"hdi_prob": 0.9, "currency": "EUR"},
    )


def random_action_values(n_customers: int = 100, cost: Sequence[float] = (2.0, 5.0, 12.0),
                         fixed_cost: Sequence[float] | None = None, *, seed: int = 0,
                         n_chains: int = 2, n_draws: int = 50,
                         eligible_share: float = 0.8) -> xr.Dataset:
    """Customers of gamma-distributed worth; dearer actions lift more, with diminishing returns.

    Incremental value = worth × lift(action) × customer noise − cost, plus draw noise, so
    some options are negative, some customers are worth a dear action and some are not.
    """
    rng = np.random.default_rng(seed)
    cost = np.asarray(cost, dtype=float)
    worth = rng.gamma(2.0, 30.0, n_customers)
    lift = 0.1 + 0.3 * np.sqrt(cost / cost.max())
    mean = (worth[:, None] * lift[None, :] * rng.lognormal(0.0, 0.4, (n_customers, cost.size))
            - cost[None, :])
    spread = 0.3 * np.abs(mean) + 1.0
    values = mean + spread * rng.standard_normal((n_chains, n_draws, n_customers, cost.size))
    eligible = rng.random((n_customers, cost.size)) < eligible_share
    segments = rng.choice(["north", "south", "west"], n_customers)
    return build_action_values(values, cost, fixed_cost, segments=segments, eligible=eligible)


@pytest.fixture(scope="session")
def make_values():
    return random_action_values


@pytest.fixture(scope="session")
def from_draws():
    return build_action_values


def brute_force(options: Options, budget: float) -> tuple[float, np.ndarray]:
    """Best criterion total (scores minus fixed costs of actions used) by trying every choice."""
    n_customers, n_actions = options.score.shape
    best, best_choice = 0.0, np.full(n_customers, -1)
    for combo in itertools.product(range(-1, n_actions), repeat=n_customers):
        choice = np.array(combo)
        chosen = choice >= 0
        if not options.positive[np.nonzero(chosen)[0], choice[chosen]].all():
            continue
        if exact_spend(options, choice) > exact_amount(budget):
            continue
        total = (options.score.values[np.nonzero(chosen)[0], choice[chosen]].sum()
                 - options.fixed_cost.values[np.unique(choice[chosen])].sum())
        if total > best:
            best, best_choice = total, choice
    return best, best_choice


@pytest.fixture(scope="session")
def exhaustive():
    return brute_force

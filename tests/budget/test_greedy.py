"""The greedy rule: hull increments, their order, the skip rule and fixed-cost subsets."""

import numpy as np
import pytest

from bayesclv.budget import allocate
from bayesclv.budget.greedy import hull_increments
from bayesclv.errors import SpecError

NAN = np.nan


def test_hull_increments_by_hand():
    cost = np.array([0.0, 1.0, 2.0, 4.0, 5.0])
    score = np.array([
        [NAN, -1.0, 3.0, 4.0, 7.0],   # (2, 3) then (5, 7); (4, 4) is under the hull
        [2.0, NAN, NAN, 5.0, NAN],    # free option first, then (4, 5)
        [NAN, NAN, NAN, NAN, -2.0],   # nothing worth doing
    ])
    inc = hull_increments(score, cost)
    order = np.lexsort((inc["step"], inc["customer"]))
    got = [(int(inc["customer"][k]), int(inc["action"][k]), float(inc["cost"][k]),
            float(inc["score"][k]), float(inc["efficiency"][k])) for k in order]
    assert got == [(0, 2, 2.0, 3.0, 1.5), (0, 4, 3.0, 4.0, pytest.approx(4 / 3)),
                   (1, 0, 0.0, 2.0, np.inf), (1, 3, 4.0, 3.0, 0.75)]


def test_increments_in_order_of_efficiency_while_they_fit(from_draws):
    # a0 free, a1 1, a2 2, a3 4, a4 5. Increments by efficiency: c1 free (inf), c0 → a2
    # (1.5, cost 2), c0 → a4 (4/3, cost 3), c1 → a3 (0.75, cost 4), c2 → a1 (0.5, cost 1).
    means = np.array([
        [NAN, -1.0, 3.0, 4.0, 7.0],
        [2.0, NAN, NAN, 5.0, NAN],
        [NAN, 0.5, NAN, NAN, NAN],
    ])
    values = from_draws(means[None, None], [0.0, 1.0, 2.0, 4.0, 5.0],
                        eligible=~np.isnan(means))
    expected = {
        5.0: (["a4", "a0", "do_nothing"], 9.0),
        # c0's second step (cost 3) does not fit after the first: skipped; c1's (4) too;
        # c2's cheap one fits.
        4.5: (["a2", "a0", "a1"], 5.5),
        10.5: (["a4", "a3", "a1"], 12.5),
    }
    for budget, (actions, total) in expected.items():
        plan = allocate(values, budget)
        assert list(plan.table["action"]) == actions
        assert plan.objective == pytest.approx(total)
        assert plan.spent <= budget


def test_a_skipped_increment_blocks_the_customers_later_ones(from_draws):
    # z → a0 (eff 3) first; x → a1 costs 5 and does not fit in 4.5; x's next step a1 → a2
    # costs only 1 and would fit, but builds on the skipped one.
    means = np.array([[3.0, NAN, NAN], [NAN, 10.0, 11.5]])
    values = from_draws(means[None, None], [1.0, 5.0, 6.0], eligible=~np.isnan(means))
    plan = allocate(values, 5.5)
    assert list(plan.table["action"]) == ["a0", "do_nothing"]
    assert plan.spent == 1.0


def test_fixed_cost_opens_an_action_only_when_it_pays(from_draws):
    # a1 is worth 5 more than a0 per customer but costs 100 to open.
    def plan(n_customers, method):
        means = np.tile([1.0, 6.0], (n_customers, 1))
        values = from_draws(means[None, None], [1.0, 1.0], [0.0, 100.0])
        return allocate(values, 1_000.0, method=method)

    for method in ("greedy", "exact"):
        few = plan(10, method)     # 10 × 6 − 100 < 10 × 1
        assert set(few.table["action"]) == {"a0"} and list(few.fixed_costs.index) == ["a0"]
        assert few.objective == pytest.approx(10.0) and few.spent == 10.0
        many = plan(30, method)    # 30 × 6 − 100 > 30 × 1
        assert set(many.table["action"]) == {"a1"}
        assert many.objective == pytest.approx(80.0) and many.spent == 130.0


def test_fixed_cost_beyond_the_budget_is_never_opened(from_draws):
    values = from_draws(np.full((1, 1, 4, 1), 50.0), [1.0], [100.0])
    plan = allocate(values, 99.0)
    assert plan.n_targeted == 0 and plan.spent == 0.0


def test_more_than_twelve_fixed_cost_actions_is_refused(from_draws):
    values = from_draws(np.ones((1, 1, 2, 13)), np.ones(13), np.ones(13))
    with pytest.raises(SpecError, match="13 actions have a fixed cost.*method='exact'"):
        allocate(values, 10.0)
    assert allocate(values, 10.0, method="exact").n_targeted == 2

"""The scoring arithmetic on its own: the live discounted horizon against the closed form."""

import numpy as np
from dert import PNBD, T_X, T, X, dert

from bayesclv.scoring.inputs import CustomerInputs, PosteriorDraws
from bayesclv.scoring.quantities import distinct_histories, horizon_if_alive, p_alive
from bayesclv.scoring.settings import value_settings
from bayesclv.spec import ValueSpec


def test_a_century_of_monthly_mid_period_discounting_is_the_closed_form_dert():
    # FHL 2005's DERT integrates continuous discounting to infinity; the value tables sum
    # 30.4375-day months discounted at their mid-points. Over 1,200 months at 15 %/year
    # the truncation (e^-14) and the mid-point rule ((δ Δ)²/24 ≈ 6e-6) are both tiny.
    names = ("r", "alpha", "s", "beta")
    post = PosteriorDraws(family="pareto_nbd", segments=("all",),
                          frequency={k: np.array([[v]]) for k, v in zip(names, PNBD, strict=True)},
                          spend=None, chain=np.zeros(1, int), draw=np.zeros(1, int))
    n = X.size
    inputs = CustomerInputs(customer=np.arange(n), segment=np.array(["all"] * n),
                            code=np.zeros(n, int), x=X, t_x=T_X, T=np.full(n, T),
                            n_spend=np.zeros(n), mean_spend=np.zeros(n))
    rows = distinct_histories(inputs)
    settings = value_settings(ValueSpec(annual_discount_rate=0.15, horizon_months=1200.0),
                              "weeks", "mid")
    _, discounted = horizon_if_alive(post, rows, settings)
    per_customer = (discounted[:, rows.age_inverse] * p_alive(post, rows))[0, rows.inverse]
    np.testing.assert_allclose(per_customer, dert(0.15), rtol=1e-4)

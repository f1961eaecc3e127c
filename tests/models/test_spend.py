"""The spend model's likelihood equals the per-customer Gamma-Gamma likelihood, summed."""

import numpy as np
import pytensor
import pytest

from bayesclv.data import CustomerSummary
from bayesclv.maths import gammagamma_loglik
from bayesclv.models.spend import build_gamma_gamma
from bayesclv.simulate import draw_truth, simulate_customers
from bayesclv.spec import PriorSpec


@pytest.mark.parametrize("n_segments", [1, 3])
def test_potential_is_sum_over_spenders_of_loglik(n_segments):
    truth = draw_truth("pareto_nbd", 3, tau=0.3, seed=21)
    frame = simulate_customers(truth, [80, 200, 500], seed=22).summary_frame()
    summary = (CustomerSummary.from_frame(frame, customer="customer_id", segment="segment")
               if n_segments == 3 else
               CustomerSummary.from_frame(frame.drop(columns="segment"), customer="customer_id"))
    model = build_gamma_gamma(summary, PriorSpec())
    rng = np.random.default_rng(3)
    point = {name: value + rng.normal(0.0, 0.3, np.shape(value))
             for name, value in model.initial_point().items()}
    outputs = model.replace_rvs_by_values([model.potentials[0], model["p"], model["q"],
                                           model["gamma"]])
    potential, p, q, gamma = pytensor.function(model.value_vars, outputs)(
        *(point[v.name] for v in model.value_vars))
    spenders = summary.frame[summary.frame["n_spend"] > 0]
    seg = spenders["segment"].cat.codes.to_numpy()
    per_customer = gammagamma_loglik(p[seg], q[seg], gamma[seg],
                                     spenders["n_spend"].to_numpy(float),
                                     spenders["mean_spend"].to_numpy(float))
    assert potential == pytest.approx(per_customer.sum(), rel=1e-10)
    # the special functions ran over fewer (segment, n) pairs than spenders
    assert len({(s, n) for s, n in zip(seg, spenders["n_spend"], strict=True)}) < len(spenders)

"""The frequency model's likelihood equals the per-customer likelihood, summed."""

import numpy as np
import pytensor
import pytest

from bayesclv.data import CustomerSummary
from bayesclv.models.frequency import FAMILIES, build_frequency_model
from bayesclv.simulate import draw_truth, simulate_customers
from bayesclv.spec import PriorSpec


def simulated_summary(family: str, n_segments: int) -> CustomerSummary:
    truth = draw_truth(family, 3, tau=0.3, seed=11)
    frame = simulate_customers(truth, [60, 150, 400], seed=12).summary_frame()
    if n_segments == 1:
        return CustomerSummary.from_frame(frame.drop(columns="segment"), customer="customer_id")
    return CustomerSummary.from_frame(frame, customer="customer_id", segment="segment")


@pytest.mark.parametrize("family_name", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
@pytest.mark.parametrize("n_segments", [1, 3])
def test_potential_is_sum_over_customers_of_loglik(family_name, n_segments):
    family = FAMILIES[family_name]
    summary = simulated_summary(family_name, n_segments)
    assert len(summary.segments) == n_segments
    model = build_frequency_model(family, summary, PriorSpec())
    rng = np.random.default_rng(5)
    point = {
        name: value + rng.normal(0.0, 0.3, np.shape(value))
        for name, value in model.initial_point().items()
    }
    outputs = model.replace_rvs_by_values(
        [model.potentials[0], *(model[name] for name in family.natural)]
    )
    potential, *natural = pytensor.function(model.value_vars, outputs)(
        *(point[v.name] for v in model.value_vars)
    )
    seg = summary.segment_codes
    frame = summary.frame
    per_customer = family.loglik(
        *(value[seg] for value in natural),
        frame["x"].to_numpy(float), frame["t_x"].to_numpy(float), frame["T"].to_numpy(float),
    )
    assert potential == pytest.approx(per_customer.sum(), rel=1e-10)
    compressed = summary.compress().rows
    assert len(compressed) < summary.n_customers  # the compression did something

"""The treatment model's likelihood is the sum of the per-customer formulas, exactly."""

import numpy as np
import pandas as pd
import pytest

from bayesclv.data import ColumnMap
from bayesclv.decision.treatment import treated_histories
from bayesclv.maths import paretonbd_count_loglik, paretonbd_loglik
from bayesclv.maths.paretonbd_treatment import paretonbd_treated_timing_loglik
from bayesclv.models.treatment import TreatedHistories, build_treatment_model
from bayesclv.simulate import HierarchicalTruth, simulate_experiment
from bayesclv.spec import NormalPrior, PriorSpec

TRUTH = HierarchicalTruth.from_frame("pareto_nbd", pd.DataFrame(
    {"r": [0.55, 0.8], "alpha": [10.6, 8.0], "s": [0.61, 0.5], "beta": [11.7, 9.0],
     "p": [6.25] * 2, "q": [3.74] * 2, "gamma": [15.4] * 2}, index=["a", "b"]))


@pytest.fixture(scope="module")
def experiment():
    world = simulate_experiment(TRUTH, 600, dropout_factor=0.6, purchase_factor=1.3, seed=2)
    histories, _ = treated_histories(world.transactions, world.assignment, end=world.end,
                                     columns=ColumnMap(segment="segment"))
    return histories


def test_potential_is_the_sum_of_per_customer_log_likelihoods(experiment):
    priors = {"purchase_rate": NormalPrior(0.0, 1.0), "dropout_rate": NormalPrior(0.0, 1.0)}
    model = build_treatment_model(experiment, PriorSpec(), priors)
    point = model.initial_point()
    point.update({"log_f_purchase_pop": np.log(1.3), "log_f_dropout_pop": np.log(0.6),
                  "log_f_purchase_z": np.array([0.5, -1.0]),
                  "log_f_dropout_z": np.array([-0.3, 0.8]),
                  "log_f_purchase_tau_log__": np.log(0.1), "log_f_dropout_tau_log__": np.log(0.2)})
    evaluate = model.compile_fn(
        [model["loglik"], model["r"], model["alpha"], model["s"], model["beta"],
         model["log_f_purchase"], model["log_f_dropout"]], inputs=model.value_vars,
        on_unused_input="ignore")
    total, r, alpha, s, beta, log_fl, log_fm = evaluate(point)
    frame = experiment.summary.frame
    g = experiment.summary.segment_codes
    x, t_x, T = (frame[c].to_numpy(float) for c in ("x", "t_x", "T"))
    treated = experiment.treated
    want = np.where(
        treated,
        paretonbd_count_loglik(r[g], alpha[g], s[g], beta[g], x)
        + paretonbd_treated_timing_loglik(r[g], alpha[g], s[g], beta[g], log_fl[g], log_fm[g],
                                          x, experiment.x_post, t_x, T,
                                          np.nan_to_num(experiment.tau)),
        paretonbd_loglik(r[g], alpha[g], s[g], beta[g], x, t_x, T)).sum()
    assert float(total) == pytest.approx(want, rel=1e-9)


def test_histories_that_contradict_themselves_are_refused(experiment):
    bad_tau = np.where(experiment.treated, experiment.summary.frame["T"].to_numpy() + 1, np.nan)
    with pytest.raises(ValueError, match="0 <= tau <= T"):
        TreatedHistories(experiment.summary, experiment.treated, bad_tau, experiment.x_post)

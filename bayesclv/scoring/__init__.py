"""Scoring: posterior draws and customer histories in, per-draw values out.

The layer under :mod:`bayesclv.clv`, :mod:`bayesclv.decision` and :mod:`bayesclv.validate`:
each of them collects the draws and the customers here once, resolves the money and time
settings once, and evaluates the same per-draw quantities (with or without an action's
changes to the processes).

* :mod:`~bayesclv.scoring.inputs`: a fit and a summary as arrays (samples × segments,
  customers);
* :mod:`~bayesclv.scoring.settings`: the horizon cut into periods with their discount
  factors;
* :mod:`~bayesclv.scoring.quantities`: P(alive), expected purchases per period given alive,
  conditional mean spend, per sample and distinct history;
* :mod:`~bayesclv.scoring.residual_value`: margin × spend × discounted purchases × P(alive)
  per sample and customer, with or without an action's factors;
* :mod:`~bayesclv.scoring.simulation`: simulated futures (parameter + outcome uncertainty);
* :mod:`~bayesclv.scoring.summaries`: tidy tables of per-draw values (mean, median, sd, HDI).

>>> from bayesclv.scoring import (customer_inputs, distinct_histories,  # doctest: +SKIP
...                               horizon_if_alive, posterior_draws, value_settings)
>>> post, inputs = posterior_draws(fit), customer_inputs(summary, fit)  # doctest: +SKIP
>>> settings = value_settings(fit.spec.value, fit.time_unit)  # doctest: +SKIP
>>> rows = distinct_histories(inputs)  # doctest: +SKIP
>>> purchases, discounted = horizon_if_alive(post, rows, settings)  # doctest: +SKIP
"""

from bayesclv.scoring.inputs import (
    CustomerInputs,
    PosteriorDraws,
    customer_inputs,
    per_customer,
    posterior_draws,
)
from bayesclv.scoring.quantities import (
    Histories,
    ProcessFactors,
    distinct_histories,
    expected_spend,
    horizon_if_alive,
    p_alive,
    periods_if_alive,
)
from bayesclv.scoring.residual_value import ActionFactors, ResidualValue
from bayesclv.scoring.settings import Convention, ValueSettings, value_settings
from bayesclv.scoring.simulation import simulate_periods
from bayesclv.scoring.summaries import (
    PORTFOLIO,
    hdi_label,
    ordered_segments,
    resolve_hdi_prob,
    summarise_draws,
)

__all__ = [
    "PORTFOLIO",
    "ActionFactors",
    "Convention",
    "CustomerInputs",
    "Histories",
    "PosteriorDraws",
    "ProcessFactors",
    "ResidualValue",
    "ValueSettings",
    "customer_inputs",
    "distinct_histories",
    "expected_spend",
    "hdi_label",
    "horizon_if_alive",
    "ordered_segments",
    "p_alive",
    "per_customer",
    "periods_if_alive",
    "posterior_draws",
    "resolve_hdi_prob",
    "simulate_periods",
    "summarise_draws",
    "value_settings",
]

"""Default priors of every family, on the unconstrained scale, in one table.

Rates are stated per week and shifted to the summary's time unit, so that one spec reads
the same whatever unit the data use. Locations are weakly informative: two prior standard
deviations span roughly a factor of 20 to 50 around typical retail values (CDNOW's
published estimates sit well inside them).
"""

from __future__ import annotations

import math

from bayesclv.spec import NormalPrior
from bayesclv.units import weeks_per_unit

# Unconstrained parameter -> (prior mean, prior sd, is the log of a rate per time unit).
_DEFAULTS: dict[str, tuple[float, float, bool]] = {
    # Purchase process of every family: r, and log(r/alpha) = mean purchase rate.
    "log_r": (math.log(0.5), 1.5, False),
    "log_rate": (math.log(0.05), 2.0, True),
    # Pareto/NBD dropout: s, and log(s/beta) = mean dropout rate.
    "log_s": (math.log(0.5), 1.5, False),
    "log_dropout": (math.log(0.02), 2.0, True),
    # BG/NBD and MBG/NBD dropout: logit of the mean dropout probability per purchase
    # a/(a+b), and log(a+b), its concentration (CDNOW's MLE: BG/NBD logit -1.1, log 1.2;
    # MBG/NBD logit -0.6, log 0.9).
    "logit_p": (-1.5, 1.5, False),
    "log_kappa": (math.log(3.0), 1.5, False),
    # Gamma-Gamma spend: p and q. The prior of log(p gamma/q), a mean spend, depends on the
    # currency, so spend.spend_scale_prior centres it on the data's own scale.
    "log_p": (math.log(5.0), 1.5, False),
    "log_q": (math.log(3.0), 1.5, False),
}


def default_prior(name: str, time_unit: str = "weeks") -> NormalPrior:
    """The default prior of an unconstrained parameter, converted to ``time_unit``.

    Parameters
    ----------
    name
        Unconstrained parameter name, e.g. ``"log_rate"``.
    time_unit
        ``"weeks"`` or ``"days"``; log-rates are shifted by log(days per unit / 7).
    """
    mu, sigma, is_rate = _DEFAULTS[name]
    if is_rate:
        mu += math.log(weeks_per_unit(time_unit))
    return NormalPrior(mu=mu, sigma=sigma)

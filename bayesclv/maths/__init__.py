"""Closed-form quantities of the BTYD models, written once.

Log-likelihoods accept NumPy arrays or PyTensor variables (see
:mod:`bayesclv.maths.backend`); scoring quantities are NumPy float64 and
broadcast over draws and customers.
"""

from bayesclv.maths.bgnbd import (
    bgnbd_conditional_expected_purchases,
    bgnbd_count_loglik,
    bgnbd_expected_purchases,
    bgnbd_loglik,
    bgnbd_p_alive,
    bgnbd_timing_loglik,
)
from bayesclv.maths.discounting import discount_factor
from bayesclv.maths.gammagamma import gammagamma_conditional_mean_spend, gammagamma_loglik
from bayesclv.maths.mbgnbd import (
    mbgnbd_conditional_expected_purchases,
    mbgnbd_count_loglik,
    mbgnbd_expected_purchases,
    mbgnbd_loglik,
    mbgnbd_p_alive,
    mbgnbd_timing_loglik,
)
from bayesclv.maths.paretonbd import (
    paretonbd_conditional_expected_purchases,
    paretonbd_count_loglik,
    paretonbd_expected_purchases,
    paretonbd_loglik,
    paretonbd_p_alive,
    paretonbd_timing_loglik,
)

__all__ = [
    "bgnbd_conditional_expected_purchases",
    "bgnbd_count_loglik",
    "bgnbd_expected_purchases",
    "bgnbd_loglik",
    "bgnbd_p_alive",
    "bgnbd_timing_loglik",
    "discount_factor",
    "gammagamma_conditional_mean_spend",
    "gammagamma_loglik",
    "mbgnbd_conditional_expected_purchases",
    "mbgnbd_count_loglik",
    "mbgnbd_expected_purchases",
    "mbgnbd_loglik",
    "mbgnbd_p_alive",
    "mbgnbd_timing_loglik",
    "paretonbd_conditional_expected_purchases",
    "paretonbd_count_loglik",
    "paretonbd_expected_purchases",
    "paretonbd_loglik",
    "paretonbd_p_alive",
    "paretonbd_timing_loglik",
]

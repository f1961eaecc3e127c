"""The closed-form discounted expected residual transactions of a Pareto/NBD customer."""

import numpy as np
from scipy import special

from bayesclv.maths import paretonbd_p_alive

PNBD = (0.553, 10.578, 0.606, 11.669)  # r, α, s, β: FHL's CDNOW sample estimates (weeks)
X = np.array([0.0, 2.0, 1.0, 30.0])
T_X = np.array([0.0, 30.43, 1.0, 38.0])
T = 38.86


def dert(annual: float) -> np.ndarray:
    """FHL 2005 (RFM and CLV): DERT = P(alive) (r+x)/(α+T) (β+T)^s δ^(s-1) U(s, s, δ(β+T)),
    δ the continuous rate per week equal to ``annual`` compounded yearly, for X, T_X, T."""
    r, alpha, s, beta = PNBD
    delta = np.log1p(annual) / (365.25 / 7)
    return (paretonbd_p_alive(*PNBD, X, T_X, T) * (r + X) / (alpha + T) * (beta + T) ** s
            * delta ** (s - 1) * special.hyperu(s, s, delta * (beta + T)))

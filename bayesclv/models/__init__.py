"""Hierarchical BTYD models per segment: build, fit, save and load."""

from bayesclv.models.fit import Fit, fit
from bayesclv.models.frequency import (
    BG_NBD,
    FAMILIES,
    MBG_NBD,
    PARETO_NBD,
    build_frequency_model,
)
from bayesclv.models.provenance import fingerprint
from bayesclv.models.spend import build_gamma_gamma

__all__ = [
    "BG_NBD",
    "FAMILIES",
    "MBG_NBD",
    "PARETO_NBD",
    "Fit",
    "build_frequency_model",
    "build_gamma_gamma",
    "fingerprint",
    "fit",
]

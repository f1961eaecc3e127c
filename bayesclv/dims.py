"""Names of the dims that results share across layers, in one place.

Posterior draws, and every per-draw result built from them (CLV, incremental values,
campaign outcomes), are indexed by the dims ``chain`` and ``draw``, as in ArviZ; a
reduction "over the posterior" is over :data:`SAMPLE_DIMS`.
"""

from __future__ import annotations

__all__ = ["SAMPLE_DIMS"]

SAMPLE_DIMS: tuple[str, str] = ("chain", "draw")
"""The dims that index posterior samples."""

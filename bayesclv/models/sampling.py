"""Running a sampler on a built PyMC model: NUTS through nutpie or PyMC, or a MAP point.

All paths return an ArviZ DataTree with a ``posterior`` group of dims (chain, draw, ...),
so everything downstream treats a MAP fit as a one-draw posterior.
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pymc as pm
import xarray as xr

from bayesclv.dims import SAMPLE_DIMS
from bayesclv.models.allocator import steady_allocator
from bayesclv.spec import SamplerSpec


def choose_backend(sampler: SamplerSpec) -> str:
    """The NUTS implementation to use: nutpie when asked for or available, else PyMC's.

    ``bench/bench_fit.py`` measures both. nutpie is the default: on CDNOW master it needs
    fewer leapfrog steps per draw (5.4 vs 5.9 for BG/NBD, 8.2 vs 11.4 for Pareto/NBD, 29 vs
    42 for BG/NBD with 9 segments) and finishes 1.3–1.8× sooner. Its numba compile step
    costs 3–4 s per model, so for a tiny, short fit ``backend = "pymc"`` can finish first.
    """
    if sampler.backend != "auto":
        return sampler.backend
    return "nutpie" if importlib.util.find_spec("nutpie") else "pymc"


def sample_nuts(model: pm.Model, sampler: SamplerSpec, *, progress: bool = True) -> xr.DataTree:
    """Draw from the posterior with NUTS.

    Parameters
    ----------
    model
        A built model.
    sampler
        Chains, tuning and kept draws, target acceptance, seed and backend.
    progress
        Show the sampler's progress bar.

    Returns
    -------
    xarray.DataTree
        Groups ``posterior`` and ``sample_stats`` (with ``diverging`` and ``energy``).
    """
    with steady_allocator():
        return _sample(model, sampler, progress)


def _sample(model: pm.Model, sampler: SamplerSpec, progress: bool) -> xr.DataTree:
    backend = choose_backend(sampler)
    cores = sampler.cores or min(sampler.chains, 2)
    if backend == "nutpie":
        import nutpie

        compiled = nutpie.compile_pymc_model(model)
        return nutpie.sample(
            compiled,
            draws=sampler.draws,
            tune=sampler.tune,
            chains=sampler.chains,
            cores=cores,
            seed=sampler.seed,
            target_accept=sampler.target_accept,
            progress_bar=progress,
        )
    with warnings.catch_warnings():
        # PyMC's own convergence messages are replaced by bayesclv.models.convergence.
        warnings.simplefilter("ignore", UserWarning)
        return pm.sample(
            draws=sampler.draws,
            tune=sampler.tune,
            chains=sampler.chains,
            cores=cores,
            random_seed=sampler.seed,
            target_accept=sampler.target_accept,
            progressbar=progress,
            compute_convergence_checks=False,
            nuts_sampler="pymc",
            model=model,
        )


def find_map(model: pm.Model, sampler: SamplerSpec) -> xr.DataTree:
    """The posterior mode, as a posterior of one chain and one draw.

    Parameters
    ----------
    model
        A built model.
    sampler
        Only ``seed`` is used (for the optimiser's start jitter).
    """
    point = pm.find_MAP(model=model, progressbar=False, seed=sampler.seed)
    posterior = xr.Dataset(
        {
            name: _one_draw(model, name, np.asarray(point[name]))
            for name in model.named_vars
            if name in point and not name.endswith("__")
        }
    )
    return xr.DataTree.from_dict({"posterior": posterior})


def _one_draw(model: pm.Model, name: str, value: np.ndarray) -> xr.DataArray:
    dims = model.named_vars_to_dims.get(name, ())
    coords = {d: list(model.coords[d]) for d in dims}
    return xr.DataArray(value[None, None, ...], dims=(*SAMPLE_DIMS, *dims), coords=coords)

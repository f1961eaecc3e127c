"""Fitting a spec to customer summaries, and the :class:`Fit` that holds the result.

A ``Fit`` carries the frequency/dropout posterior and (optionally) the spend posterior as
ArviZ DataTrees with dims (chain, draw, segment), together with the spec that produced them
and a fingerprint of the data, and round-trips through one NetCDF file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayesclv.data import CovariateEncoding, CustomerSummary
from bayesclv.distinct import distinct
from bayesclv.errors import DataError, SpecError
from bayesclv.models.centring import choose_centring
from bayesclv.models.convergence import Convergence, diagnose, warn_if_unconverged
from bayesclv.models.covariates import CovariateTerms, coefficient_name, term_dim
from bayesclv.models.frequency import FAMILIES, FrequencyFamily, build_frequency_model
from bayesclv.models.hierarchy import Centring
from bayesclv.models.provenance import FittedCustomers, fingerprint
from bayesclv.models.sampling import find_map, sample_nuts
from bayesclv.models.spend import NATURAL as SPEND_NATURAL
from bayesclv.models.spend import UNCONSTRAINED as SPEND_UNCONSTRAINED
from bayesclv.models.spend import build_gamma_gamma
from bayesclv.outputs import atomic_write
from bayesclv.spec import ModelSpec, SamplerSpec

_SAMPLE_DIMS = ["chain", "draw"]
_SAVED_ATTRS = (
    "bayesclv_spec", "bayesclv_segments", "bayesclv_time_unit", "bayesclv_fingerprint"
)


@dataclass(frozen=True)
class Fit:
    """A fitted model.

    Attributes
    ----------
    spec
        The spec that was fitted.
    segments
        Segment labels, in the order of the ``segment`` dim.
    time_unit
        Unit of the data's times, so of α, β (per time unit) in the posterior.
    fingerprint
        SHA-256 of the customer summaries the fit saw.
    frequency
        DataTree of the frequency/dropout model: ``posterior`` (sampled unconstrained
        parameters and the natural ones of dim ``segment``), ``sample_stats`` (NUTS only),
        ``constant_data`` and ``observed_data`` (the compressed rows), and for NUTS fits of
        several segments ``centring`` (λ per parameter and segment: how the sampled
        ``{name}_z`` map to the parameters, :mod:`bayesclv.models.hierarchy`).
    spend
        DataTree of the Gamma-Gamma model, or None when the spec has ``spend = false``.
    covariates
        The encoding of the spec's covariates learned from the fitted customers (how a
        customer's values become terms), or None for a fit without covariates. The
        posterior then holds ``purchase_coef``, ``dropout_coef`` (frequency) and
        ``spend_coef`` (spend) for the processes they act on, and the segment parameters are
        the baseline customer's (:mod:`bayesclv.models.covariates`).
    fitted_customers
        A hash of each fitted customer's id and history, and the calibration end, which
        scoring checks a summary against (:func:`check_customers`); None for a fit saved
        before bayesclv recorded them, or built by hand, which only ``fingerprint`` tells.
    """

    spec: ModelSpec
    segments: tuple[str, ...]
    time_unit: str
    fingerprint: str
    frequency: xr.DataTree
    spend: xr.DataTree | None
    covariates: CovariateEncoding | None = None
    fitted_customers: FittedCustomers | None = None

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """The covariate columns the fit uses, in order (empty without covariates)."""
        return () if self.covariates is None else tuple(c.name for c in self.covariates.columns)

    @property
    def covariate_terms(self) -> CovariateTerms | None:
        """The spec's covariates with their learned encoding, or None."""
        if self.covariates is None:
            return None
        return CovariateTerms(spec=self.spec.covariates, encoding=self.covariates)

    def coefficients(self, process: str) -> xr.DataArray | None:
        """Posterior draws of a process's covariate coefficients, or None if none act on it.

        Parameters
        ----------
        process
            ``"purchase"``, ``"dropout"`` or ``"spend"``.

        Returns
        -------
        xarray.DataArray or None
            Dims (chain, draw, ``{process}_term``): log-scale effects per standard deviation
            (numeric covariates) or per level against the reference (categorical).
        """
        tree = self.spend if process == "spend" else self.frequency
        name = coefficient_name(process)
        if tree is None or name not in tree["posterior"].data_vars:
            return None
        return tree["posterior"][name]

    @property
    def family(self) -> FrequencyFamily:
        """The frequency/dropout family."""
        return FAMILIES[self.spec.family]

    @property
    def method(self) -> str:
        """``"nuts"`` or ``"map"``."""
        return self.spec.sampler.method

    def parameters(self) -> xr.Dataset:
        """Posterior draws of the family's natural parameters, dims (chain, draw, segment)."""
        return self.frequency["posterior"].to_dataset()[list(self.family.natural)]

    def spend_parameters(self) -> xr.Dataset:
        """Posterior draws of Gamma-Gamma's p, q, γ, dims (chain, draw, segment).

        Raises
        ------
        DataError
            If the spec fitted no spend model.
        """
        if self.spend is None:
            raise DataError("this fit has no spend model (the spec says model.spend = false)")
        return self.spend["posterior"].to_dataset()[list(SPEND_NATURAL)]

    def convergence(self) -> dict[str, Convergence]:
        """Diagnostics of each NUTS-fitted part (empty for MAP fits)."""
        parts = {"frequency": (self.frequency, self.family.unconstrained)}
        if self.spend is not None:
            parts["spend"] = (self.spend, SPEND_UNCONSTRAINED)
        return {
            name: diagnose(
                tree["posterior"].to_dataset(),
                tree["sample_stats"].to_dataset(),
                _sampled_names(tree, unconstrained),
            )
            for name, (tree, unconstrained) in parts.items()
            if "sample_stats" in tree.children
        }

    def summary(self, hdi_prob: float | None = None) -> pd.DataFrame:
        """Tidy table of the natural parameters per segment.

        Parameters
        ----------
        hdi_prob
            Mass of the highest-density interval (default: the spec's ``value.hdi_prob``).

        Returns
        -------
        pandas.DataFrame
            Columns ``model, parameter, segment, mean, sd, hdi_{p}%_low, hdi_{p}%_high``
            (plus ``r_hat``, ``ess_bulk`` for NUTS fits). α and β are per time unit
            (``time_unit``), γ is in currency units. A fit with covariates adds rows
            ``purchase_coef``, ``dropout_coef``, ``spend_coef`` whose ``segment`` column
            holds the term (log-scale effects shared by the segments).

        Notes
        -----
        Mean, HDI, R-hat and bulk ESS are ArviZ's (``az.mean``, ``az.hdi``, ``az.rhat``,
        ``az.ess``). The sd is the population sd of the draws (ddof = 0), which this table
        has always shown; ``az.std`` and ``az.summary`` divide by n − 1.
        """
        prob = hdi_prob if hdi_prob is not None else self.spec.value.hdi_prob
        label = f"hdi_{round(prob * 100):g}%"
        parts = [("frequency", self.parameters())]
        if self.spend is not None:
            parts.append(("spend", self.spend_parameters()))
        frames = []
        for model, draws in parts:
            frames.append(self._summary_rows(model, draws, "segment", self.segments, prob, label))
            for process in ("purchase", "dropout") if model == "frequency" else ("spend",):
                coef = self.coefficients(process)
                if coef is not None:
                    terms = [str(t) for t in coef[term_dim(process)].values]
                    frames.append(self._summary_rows(model, coef.to_dataset(),
                                                     term_dim(process), terms, prob, label))
        return pd.concat(frames, ignore_index=True)

    @staticmethod
    def _summary_rows(model: str, draws: xr.Dataset, dim: str,
                      labels: list[str] | tuple[str, ...], prob: float,
                      label: str) -> pd.DataFrame:
        """:meth:`summary`'s rows of some variables with one dim besides (chain, draw)."""
        interval = az.hdi(draws, prob=prob)
        stats = {
            "mean": az.mean(draws, dim=_SAMPLE_DIMS, round_to="none"),
            "sd": xr.apply_ufunc(np.std, draws, input_core_dims=[_SAMPLE_DIMS],
                                 vectorize=True),
            f"{label}_low": interval.sel(ci_bound="lower", drop=True),
            f"{label}_high": interval.sel(ci_bound="upper", drop=True),
        }
        if draws.sizes["chain"] > 1 and draws.sizes["draw"] > 3:
            stats["r_hat"] = az.rhat(draws)
            stats["ess_bulk"] = az.ess(draws)
        columns = {
            stat: value.to_array("parameter").sel({dim: list(labels)})
            .transpose("parameter", dim).values.ravel()
            for stat, value in stats.items()
        }
        if "ess_bulk" in columns:
            columns["ess_bulk"] = columns["ess_bulk"].astype(np.int64)
        names = [str(name) for name in draws.data_vars]
        return pd.DataFrame({
            "model": model,
            "parameter": np.repeat(names, len(labels)),
            "segment": np.tile(labels, len(names)),
            **columns,
        })

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fit to one NetCDF file (groups ``frequency/…`` and ``spend/…``).

        The file carries a SHA-256 checksum of every array it holds and the versions that
        wrote it; :meth:`load` refuses a file whose contents no longer match. The file is
        written to a temporary name and renamed into place when complete, so an existing fit
        survives a crash mid-write, and it is replaced only with ``overwrite=True``.

        Raises
        ------
        OutputError
            If ``path`` exists (and not ``overwrite``), is a folder or cannot be written.
        """
        children = {"frequency": self.frequency}
        if self.spend is not None:
            children["spend"] = self.spend
        if self.fitted_customers is not None:
            children["customers"] = xr.DataTree(self.fitted_customers.to_dataset())
        tree = _as_text_where_object(xr.DataTree(children=children))
        tree.attrs = {
            "bayesclv_spec": json.dumps(self.spec.to_dict()),
            "bayesclv_segments": json.dumps(list(self.segments)),
            "bayesclv_time_unit": self.time_unit,
            "bayesclv_fingerprint": self.fingerprint,
            "bayesclv_checksum": content_checksum(tree),
            "bayesclv_versions": json.dumps(_versions()),
            **({"bayesclv_covariates": json.dumps(self.covariates.to_list())}
               if self.covariates is not None else {}),
        }
        return atomic_write(path, tree.to_netcdf, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path) -> Fit:
        """Read a fit written by :meth:`save`, checking its contents against its checksum.

        Raises
        ------
        DataError
            If the file is missing, unreadable, not a bayesclv fit, or its contents do not
            match the checksum written with them (a corrupted or edited file).
        """
        path = Path(path)
        if not path.is_file():
            raise DataError(f"fit file {path} does not exist" if not path.exists()
                            else f"{path} is a folder, not a fit file")
        try:
            with xr.open_datatree(path) as opened:
                tree = opened.load()
        except (OSError, ValueError) as error:
            raise DataError(f"{path} cannot be read as a bayesclv fit (NetCDF): "
                            f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
                            ) from None
        attrs = tree.attrs
        missing = [k for k in _SAVED_ATTRS if k not in attrs]
        if missing or "frequency" not in tree.children:
            raise DataError(f"{path} is not a bayesclv fit (missing {missing or 'frequency/'})")
        if "bayesclv_checksum" in attrs:
            content = xr.DataTree(children={
                name: _detached(tree[name]) if name != "customers"
                else xr.DataTree(tree[name].to_dataset())
                for name in ("frequency", "spend", "customers") if name in tree.children})
            if content_checksum(content) != attrs["bayesclv_checksum"]:
                raise DataError(f"{path} is corrupted: its contents do not match the checksum "
                                "written with them; refit, or restore the file from a copy")
        return cls(
            spec=ModelSpec.from_dict(json.loads(attrs["bayesclv_spec"])),
            segments=tuple(json.loads(attrs["bayesclv_segments"])),
            time_unit=attrs["bayesclv_time_unit"],
            fingerprint=attrs["bayesclv_fingerprint"],
            frequency=_detached(tree["frequency"]),
            spend=_detached(tree["spend"]) if "spend" in tree.children else None,
            covariates=(CovariateEncoding.from_list(json.loads(attrs["bayesclv_covariates"]))
                        if "bayesclv_covariates" in attrs else None),
            fitted_customers=(FittedCustomers.from_dataset(tree["customers"].to_dataset())
                              if "customers" in tree.children else None),
        )


def fit(summary: CustomerSummary, spec: ModelSpec, *, progress: bool = True) -> Fit:
    """Fit the spec's frequency/dropout family (and spend model) to customer summaries.

    Parameters
    ----------
    summary
        Per-customer summaries from :func:`bayesclv.data.summarise`.
    spec
        The model specification (family, priors, sampler settings).
    progress
        Show sampler progress bars.

    Returns
    -------
    Fit
        Posterior (or MAP point) with dims (chain, draw, segment). A
        :class:`~bayesclv.errors.ConvergenceWarning` is emitted for every part whose
        R-hat, ESS, divergences or E-BFMI fail their thresholds.
    """
    family = FAMILIES[spec.family]
    terms = CovariateTerms.learn(spec.covariates, summary)
    frequency = _run(
        lambda **pooling: build_frequency_model(family, summary, spec.priors,
                                                covariates=terms, **pooling),
        spec.sampler,
        spec.priors.tau_sigma,
        len(summary.segments),
        progress,
    )
    _attach_rows(frequency, summary, terms)
    spend = None
    if spec.spend:
        spend = _run(
            lambda **pooling: build_gamma_gamma(summary, spec.spend_priors, covariates=terms,
                                                **pooling),
            spec.spend_sampler_spec,
            spec.spend_priors.tau_sigma,
            len(summary.segments),
            progress,
        )
    result = Fit(
        spec=spec,
        segments=tuple(summary.segments),
        time_unit=summary.time_unit,
        fingerprint=fingerprint(summary),
        frequency=frequency,
        spend=spend,
        covariates=None if terms is None else terms.encoding,
        fitted_customers=FittedCustomers.of(
            summary, () if spec.covariates is None else spec.covariates.columns),
    )
    for part, convergence in result.convergence().items():
        warn_if_unconverged(convergence, f"the {part} model ({spec.name})")
    return result


#: Spec fields a fit depends on: a fit made under other values is another model.
FIT_FIELDS: tuple[tuple[str, str], ...] = (
    ("model.family", "family"), ("model.spend", "spend"), ("priors", "priors"),
    ("spend_priors", "spend_priors"), ("data.calibration_end", "data.calibration_end"),
    ("data.time_unit", "data.time_unit"), ("data.segmentation", "data.segmentation"),
    ("data.cohort_freq", "data.cohort_freq"), ("data.segment_column", "data.segment_column"),
    ("covariates", "covariates"),
)


def check_fit_matches(fit: Fit, spec: ModelSpec, summary: CustomerSummary, *,
                      source: str = "the fit") -> None:
    """Refuse to apply a fit to a spec or data it was not made from.

    Compares the spec fields the posterior depends on (family, spend, priors, calibration
    end, time unit, segmentation) and the fingerprint of the customer summaries. Money
    settings (margin, discount rate, horizon), actions and the budget may differ: they are
    applied after the fit.

    Raises
    ------
    SpecError
        Naming the spec fields that differ.
    DataError
        When the summaries differ from those the fit saw.
    """
    def value(s: ModelSpec, dotted: str) -> object:
        obj: object = s
        for part in dotted.split("."):
            obj = getattr(obj, part)
        return obj

    changed = [label for label, dotted in FIT_FIELDS
               if value(fit.spec, dotted) != value(spec, dotted)]
    if changed:
        raise SpecError(f"{source} was fitted under other values of {', '.join(changed)} than "
                        f"spec {spec.name!r} has; refit (bayesclv fit) before using it")
    if fingerprint(summary) != fit.fingerprint:
        raise DataError(f"{source} was fitted to other customer data than the spec's source "
                        f"{spec.data.source} gives now (data fingerprint differs); refit, or "
                        "score customers the fit did not see through the Python API "
                        "(e.g. bayesclv.clv.score_customers(..., customers='new'))")


#: What a summary scored with a fit holds: the customers the fit saw (or some of them, with
#: the histories it saw), or customers or histories it did not see.
Customers = Literal["fitted", "new"]


def check_customers(fit: Fit, summary: CustomerSummary, customers: Customers = "fitted") -> None:
    """Refuse to score a summary with a fit made from other data, unless told it is other data.

    Every consumer of a fit with a summary (scoring, CLV, actions, the holdout check, the
    report) calls this through :func:`bayesclv.scoring.inputs.customer_inputs`.

    Parameters
    ----------
    fit
        The fit.
    summary
        The customers to score.
    customers
        ``"fitted"`` (default): the summary holds customers the fit saw, each with the
        history it saw (the whole fitted summary or a subset of it, e.g. some segments for a
        campaign), at the fit's calibration end. ``"new"``: customers the fit did not see, or
        a later snapshot of those it saw; their histories are not checked, but a summary
        ending before the data the fit saw is still refused.

    Raises
    ------
    DataError
        If ``customers`` is neither; if the summary's calibration end is before the fit's
        (either way: the fit saw purchases after it) or, for ``"fitted"``, differs from it;
        if, for ``"fitted"``, a customer has another history than the fit saw or was not
        fitted, or (for a fit that records only its fingerprint) the summary is not the
        whole fitted one.
    """
    if customers not in ("fitted", "new"):
        raise DataError(f"customers={customers!r} must be 'fitted' (customers the fit saw, "
                        "with the histories it saw) or 'new' (customers or histories it did "
                        "not see)")
    seen = fit.fitted_customers
    fitted_end = None if seen is None else seen.calibration_end
    end = summary.calibration_end
    if fitted_end is not None and end is not None and end != fitted_end:
        if end < fitted_end:
            raise DataError(
                f"summary.calibration_end={end.date()} is before the end of the data the fit "
                f"saw ({fitted_end.date()}), whose later purchases would leak into the "
                f"scores; summarise up to {fitted_end.date()} or later, or refit on data up "
                f"to {end.date()}")
        if customers == "fitted":
            raise DataError(
                f"summary.calibration_end={end.date()} but the fit saw data up to "
                f"{fitted_end.date()}; pass customers='new' to score this later snapshot "
                "with the fit, or refit")
    if customers == "new":
        return
    if seen is None:
        if fingerprint(summary) != fit.fingerprint:
            raise DataError(
                "this summary is not the one the fit saw (data fingerprints differ) and the "
                "fit records no customers to check a subset against (saved by an older "
                "bayesclv, or built by hand); pass the whole summary the fit was made from, "
                "customers='new' to score other customers, or refit")
        return
    unseen, changed = seen.unseen(summary, fit.covariate_names)
    n = summary.n_customers
    if len(changed):
        raise DataError(
            f"{len(changed)} of the summary's {n} customers (e.g. {changed[0]!r}) have other "
            "histories than the fit saw (segment, x, t_x, T, spend or covariates differ); "
            "pass the summary the fit was made from (or a subset of it), customers='new' to "
            "score these histories with the fit, or refit")
    if len(unseen):
        raise DataError(
            f"{len(unseen)} of the summary's {n} customers (e.g. {unseen[0]!r}) are not among "
            f"the {len(seen)} customers the fit saw; pass customers='new' to score customers "
            "the fit did not see, or refit")


def content_checksum(tree: xr.DataTree) -> str:
    """SHA-256 over every array of every group of ``tree`` (names, shapes and values).

    Numbers are hashed as float64 or int64 and text as UTF-8, so the checksum survives the
    NetCDF round trip's changes of storage type.
    """
    digest = hashlib.sha256()
    for node in sorted(tree.subtree, key=lambda n: n.path):
        dataset = node.to_dataset()
        for name in sorted(map(str, dataset.variables)):
            values = np.asarray(dataset.variables[name].values)
            digest.update(f"{node.path}/{name}:{values.shape}".encode())
            if values.dtype.kind in "fc":
                digest.update(np.ascontiguousarray(values, dtype=np.complex128 if
                                                   values.dtype.kind == "c" else np.float64))
            elif values.dtype.kind in "iub":
                digest.update(np.ascontiguousarray(values, dtype=np.int64))
            elif values.dtype.kind == "M":
                digest.update(np.ascontiguousarray(values.astype("datetime64[ns]")
                                                   .view(np.int64)))
            else:
                digest.update("\x00".join(map(str, values.ravel())).encode())
    return digest.hexdigest()


def _as_text_where_object(tree: xr.DataTree) -> xr.DataTree:
    """Object-typed variables (nutpie's ``divergence_message``: text or None) as text.

    NetCDF has no None: such a variable would come back as floats, and the checksum of what
    was written would not match what is read.
    """
    def convert(dataset: xr.Dataset) -> xr.Dataset:
        for name, variable in dataset.data_vars.items():
            if variable.dtype.kind == "O":
                text = np.where(pd.isna(variable.values), "", variable.values.astype(str))
                dataset = dataset.assign({name: (variable.dims, text.astype(str))})
        return dataset

    return xr.DataTree.from_dict({node.path: convert(node.to_dataset())
                                  for node in tree.subtree})


def _versions() -> dict[str, str]:
    """Versions of bayesclv and of the libraries that shape a saved fit."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("bayesclv", "pymc", "nutpie", "arviz", "xarray", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _run(
    build: Callable[..., pm.Model],
    sampler: SamplerSpec,
    tau_sigma: float,
    n_segments: int,
    progress: bool,
) -> xr.DataTree:
    """Build one model part and fit it; NUTS fits of several segments run a pilot first.

    ``build(pooled=..., centring=...)`` builds the part. The pilot
    (:func:`~bayesclv.models.centring.choose_centring`) picks how far to centre each
    segment's parameters; the λ it chose are kept in the ``centring`` group.
    """
    if sampler.method == "map":
        return find_map(build(), sampler)
    centring = None
    if n_segments > 1:
        centring = choose_centring(build(pooled=False), tau_sigma)
    model = build(centring=centring)
    tree = sample_nuts(model, sampler, progress=progress)
    keep = {"posterior", "sample_stats"}
    groups = {name: tree[name].to_dataset() for name in tree.children if name in keep}
    if centring is not None:
        groups["centring"] = _centring_dataset(centring, model.coords["segment"])
    return xr.DataTree.from_dict(groups)


def _centring_dataset(centring: Centring, segments: tuple[str, ...]) -> xr.Dataset:
    """λ per parameter and segment, as saved with the fit."""
    return xr.Dataset(
        {name: ("segment", np.asarray(weights)) for name, weights in centring.items()},
        coords={"segment": list(segments)},
    )


def _attach_rows(tree: xr.DataTree, summary: CustomerSummary,
                 terms: CovariateTerms | None) -> None:
    """Store the compressed rows the likelihood used: x observed; the rest constant.

    With covariates on the frequency model the rows are the distinct (cell, x, t_x, T), and
    each row's covariate terms are stored as ``{process}_design`` (row, ``{process}_term``).
    """
    rows = customer_rows(summary, terms)
    index = {"row": np.arange(len(rows))}
    tree["observed_data"] = xr.DataTree(
        xr.Dataset({"x": ("row", rows["x"].to_numpy())}, coords=index)
    )
    data = {name: ("row", rows[name].to_numpy()) for name in ("segment", "t_x", "T", "count")}
    for process in ("purchase", "dropout"):
        if f"{process}_design" in rows.attrs:
            data[f"{process}_design"] = (("row", term_dim(process)),
                                         rows.attrs[f"{process}_design"])
    tree["constant_data"] = xr.DataTree(xr.Dataset(data, coords=index))


def customer_rows(summary: CustomerSummary, terms: CovariateTerms | None) -> pd.DataFrame:
    """The frequency likelihood's distinct rows, and each customer's row.

    Returns
    -------
    pandas.DataFrame
        Columns ``segment, x, t_x, T, count``; ``attrs["customer_row"]`` maps customers (in
        summary order) to rows and, with covariates on the frequency model,
        ``attrs["{process}_design"]`` holds each row's terms.
    """
    if terms is None or not terms.processes(("purchase", "dropout")):
        compressed = summary.compress()
        rows = compressed.rows.copy()
        rows.attrs["customer_row"] = compressed.customer_row
        return rows
    cells = terms.cells(summary, summary.segment_codes, ("purchase", "dropout"))
    frame = summary.frame
    keys = distinct(cells.of_customer, frame["x"], frame["t_x"], frame["T"])
    cell = keys.codes(0)
    rows = pd.DataFrame({"segment": cells.segment[cell], "x": keys.columns[1].astype(np.int64),
                         "t_x": keys.columns[2], "T": keys.columns[3],
                         "count": keys.counts.astype(np.int64)})
    rows.attrs["customer_row"] = keys.inverse.astype(np.int64)
    for process, design in cells.design.items():
        rows.attrs[f"{process}_design"] = design[cell]
    return rows


def _sampled_names(tree: xr.DataTree, unconstrained: tuple[str, ...]) -> list[str]:
    """Names of the variables NUTS actually moved: locations, scales and offsets."""
    posterior = tree["posterior"].data_vars
    coefficients = [coefficient_name(p) for p in ("purchase", "dropout", "spend")]
    return [
        f"{name}{suffix}"
        for name in unconstrained
        for suffix in ("_pop", "_tau", "_z")
        if f"{name}{suffix}" in posterior
    ] + [name for name in coefficients if name in posterior]


def _detached(tree: xr.DataTree) -> xr.DataTree:
    """A copy of a subtree as its own root (so paths start at its groups)."""
    groups = {name: child.to_dataset() for name, child in tree.children.items()}
    return xr.DataTree.from_dict(groups)

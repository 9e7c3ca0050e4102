"""Drift: live data against a reference distribution, and concept drift once labels arrive.

With a pipeline (its artifact stores the training data's reference profile)::

    report = pipeline.drift(live_df)            # a DriftReport
    report.drifted, report.reasons              # the drift policy's verdict, and why
    report.to_frame()                           # one row per column (pandas)
    monitor = pipeline.drift_monitor(10_000)    # sliding window of the last 10,000 rows
    monitor.observe(batch, predictions)         # or: predictions = monitor.predict(batch)
    monitor.report()

On plain arrays::

    from tabship import drift
    ref = drift.profile(train["age"])           # a ColumnProfile (numeric or categorical)
    ref.compare(live["age"])                    # a ColumnDrift
    drift.ks(reference_counts, live_counts)     # statistics over binned counts

Concept drift over per-prediction errors or losses: :class:`DDM`, :class:`PageHinkley`,
:class:`ADWIN`; live quality: :class:`WindowedAccuracy`, :class:`WindowedF1`,
:class:`WindowedMae`. Everything is computed by the Rust crate ``tabship-drift``, with the
definitions, defaults and edge cases documented there (every result is finite, for empty,
constant and all-missing inputs too).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ._errors import OptionError, SchemaError
from ._tabship import (
    ADWIN,
    DDM,
    ColumnProfile,
    DriftMonitor,
    PageHinkley,
    WindowedAccuracy,
    WindowedF1,
    WindowedMae,
    _chi_square,
    _hellinger,
    _histogram,
    _jensen_shannon,
    _kolmogorov_sf,
    _ks,
    _number_as_category,
    _psi,
    _slot_points,
    _wasserstein,
)

__all__ = [
    "ADWIN",
    "DDM",
    "ChiSquareResult",
    "ColumnDrift",
    "ColumnProfile",
    "DriftMonitor",
    "DriftReport",
    "Histogram",
    "KsResult",
    "PageHinkley",
    "WindowedAccuracy",
    "WindowedF1",
    "WindowedMae",
    "chi_square",
    "compare",
    "hellinger",
    "histogram",
    "jensen_shannon",
    "kolmogorov_sf",
    "ks",
    "profile",
    "psi",
    "slot_points",
    "wasserstein",
]


# --- reports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Histogram:
    """Reference and live shares over the same slots (``< 17``, ``(17, 22]``, a category,
    ``<other>``, ...); live shares are all zero for an empty window."""

    labels: list[str]
    reference: list[float]
    live: list[float]


@dataclass(frozen=True)
class ColumnDrift:
    """The drift of one column. ``statistic`` (``ks``, ``chi_square``, ``psi``,
    ``jensen_shannon``, ``wasserstein`` or ``hellinger``) decided the verdict: p-value tests
    drift when ``adjusted_p_value < threshold`` (``value`` is the raw p-value, ``adjusted_p_value``
    the one adjusted for the number of tests in the report, Benjamini–Hochberg by default),
    distances when ``value >= threshold``. Numeric-only fields (``ks*``, ``wasserstein``,
    ``mean_shift``, ``std_ratio``, ``out_of_range_rate``) are ``None`` for categories;
    ``unknown_rate`` (the share of values the reference never had) is ``None`` for numeric
    columns with many distinct values."""

    name: str
    kind: str
    statistic: str
    value: float
    adjusted_p_value: float | None
    threshold: float
    drifted: bool
    reasons: list[str]
    live_count: int
    reference_count: int
    missing_rate: float
    reference_missing_rate: float
    psi: float
    jensen_shannon: float
    hellinger: float
    chi_square: float
    chi_square_p_value: float
    ks: float | None
    ks_p_value: float | None
    ks_error_bound: float | None
    wasserstein: float | None
    mean_shift: float | None
    std_ratio: float | None
    out_of_range_rate: float | None
    unknown_rate: float | None
    histogram: Histogram

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnDrift:
        """Reads the dict of :meth:`to_dict` (one entry of ``tabship drift --json``'s
        ``columns``)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        data = {"adjusted_p_value": None, **data}  # reports before the adjustment lack it
        unknown = set(data) - fields
        missing = fields - set(data)
        if unknown or missing:
            raise SchemaError(
                f"column drift: unexpected fields {sorted(unknown)} / missing fields {sorted(missing)}"
            )
        values = dict(data)
        values["histogram"] = Histogram(**values["histogram"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The column's entry of ``tabship drift --json``."""
        return dataclasses.asdict(self)

    def __repr__(self) -> str:
        relation = "<" if self.statistic in ("ks", "chi_square") else ">="
        verdict = "drift" if self.drifted else "ok"
        extra = " (missing rate rose)" if "missing_rate" in self.reasons else ""
        return (
            f"ColumnDrift({self.name!r}, {self.kind}, {self.statistic}={self.value:.4g}, "
            f"drift if {relation} {self.threshold:g}: {verdict}{extra})"
        )


_FRAME_FIELDS = [
    f.name for f in dataclasses.fields(ColumnDrift) if f.name not in ("histogram",)
]


@dataclass(frozen=True)
class DriftReport:
    """The drift of a live sample against a reference profile: one :class:`ColumnDrift` per
    input column (profile order), the predictions' drift (not counted in the share), and the
    dataset verdict of the drift policy (the ``policy`` option): ``drifted`` is true when some
    rule fired, and ``reasons`` names them (``share``, ``prediction``, ``column:<name>``,
    ``unknown_rate:<name>``). By default the predictions' drift, 10% of never-seen values in a
    column, or half of the columns drifting fail the report; ``tabship drift --fail-on-drift``
    and the server's ``tabship_dataset_drift`` gauge use the same policy."""

    drifted: bool
    reasons: list[str]
    share_drifted: float
    drifted_columns: int
    share_threshold: float
    rows: int
    columns: list[ColumnDrift]
    prediction: ColumnDrift | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """Reads the dict of :meth:`to_dict` (the output of ``tabship drift --json``)."""
        prediction = data.get("prediction")
        return cls(
            drifted=bool(data["drifted"]),
            reasons=[str(r) for r in data.get("reasons", [])],
            share_drifted=float(data["share_drifted"]),
            drifted_columns=int(data["drifted_columns"]),
            share_threshold=float(data["share_threshold"]),
            rows=int(data["rows"]),
            columns=[ColumnDrift.from_dict(c) for c in data["columns"]],
            prediction=None if prediction is None else ColumnDrift.from_dict(prediction),
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as ``tabship drift --json`` prints it: ``{"drifted", "reasons", "share_drifted",
        "drifted_columns", "share_threshold", "rows", "columns": [...], "prediction": ...}``."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict())

    def to_frame(self, *, prediction: bool = False) -> Any:
        """A pandas DataFrame with one row per column (and the predictions' row last with
        ``prediction=True``): name, kind, statistic, value, threshold, drifted, the reasons, and
        every other statistic and rate (``None``/NaN where a statistic does not apply)."""
        import pandas as pd

        rows = list(self.columns)
        if prediction and self.prediction is not None:
            rows.append(self.prediction)
        return pd.DataFrame(
            [[getattr(c, f) for f in _FRAME_FIELDS] for c in rows], columns=_FRAME_FIELDS
        )

    @property
    def drifted_names(self) -> list[str]:
        """Names of the drifted columns."""
        return [c.name for c in self.columns if c.drifted]

    def column(self, name: str) -> ColumnDrift:
        """A column's result by name (``KeyError`` when the profile has no such column)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def __repr__(self) -> str:
        verdict = (
            f"DATASET DRIFT ({', '.join(self.reasons)})" if self.drifted else "no dataset drift"
        )
        names = self.drifted_names
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        return (
            f"<DriftReport {verdict}: {self.drifted_columns} of {len(self.columns)} columns "
            f"drifted (share {self.share_drifted:.2f}, threshold {self.share_threshold:.2f}) "
            f"over {self.rows} rows{': ' + shown if names else ''}>"
        )


def _report_from_json(text: str) -> DriftReport:
    return DriftReport.from_dict(json.loads(text))


def _column_from_json(text: str) -> ColumnDrift:
    return ColumnDrift.from_dict(json.loads(text))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise OptionError(f"invalid drift option: `{value!r}` is not a number, text or mapping")


def _options_json(options: Mapping[str, Any]) -> str:
    """Keyword options → the JSON of the Rust ``DriftOptions`` (numpy scalars as numbers)."""
    return json.dumps(dict(options), default=_plain)


# --- arrays --------------------------------------------------------------------------------


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, float) and math.isnan(x):
        return True
    return type(x).__name__ in ("NAType", "NaTType")


def _to_numpy(values: Any) -> Any:
    """pandas and pyarrow arrays as numpy (pyarrow copies when there are nulls)."""
    if not hasattr(values, "to_numpy") or isinstance(values, np.ndarray):
        return values
    if type(values).__module__.startswith("pyarrow"):
        try:
            return values.to_numpy(zero_copy_only=False)
        except TypeError:  # ChunkedArray: always copies
            return values.to_numpy()
    return values.to_numpy()


def _one_dimensional(values: Any) -> np.ndarray:
    array = np.asarray(_to_numpy(values))
    if array.dtype.kind in "US" and isinstance(values, (list, tuple)):
        array = np.asarray(values, dtype=object)  # numpy would turn 1.0 into "1.0"
    if array.ndim != 1:
        raise SchemaError(
            f"expected a 1-D array of values, got an array of shape `{array.shape}`",
            expected="a 1-D array",
            received=f"shape {array.shape}",
        )
    return array


def _parses(text: str) -> bool:
    """Numeric text (the empty text is missing), as the core parses numeric columns."""
    if not text.strip():
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers(values: Any) -> np.ndarray:
    """Any 1-D array-like of numbers (``None``, NaN and pandas.NA missing) as float64."""
    if type(values).__module__.startswith("pandas"):
        try:
            values = values.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            pass
    array = _one_dimensional(values)
    if array.dtype.kind in "biuf":
        return np.require(array, dtype=np.float64, requirements=["C", "A"])  # aligned: Rust reads &[f64]
    if array.dtype.kind in "OUS":
        out = np.empty(len(array), dtype=np.float64)
        for i, x in enumerate(array.tolist()):
            if _is_missing(x):
                out[i] = np.nan
            elif isinstance(x, (bool, int, float)):
                out[i] = float(x)
            elif isinstance(x, str) and _parses(x):
                out[i] = float(x) if x.strip() else np.nan
            else:
                raise SchemaError(
                    f"row {i + 1}: expected a number, got `{x!r}`",
                    expected="a number",
                    received=repr(x),
                    row=i + 1,
                )
        return out
    raise SchemaError(
        f"expected numbers, got an array of dtype `{array.dtype}`",
        expected="a number",
        received=f"dtype {array.dtype}",
    )


def _category(x: Any, row: int) -> str | None:
    if _is_missing(x):
        return None
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return "True" if x else "False"  # as the pipeline's inputs read a bool category
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return _number_as_category(x)  # the core's text, as the pipeline's inputs
    raise SchemaError(
        f"row {row + 1}: expected a category (text), got `{x!r}`",
        expected="a category (text)",
        received=repr(x),
        row=row + 1,
    )


def _categories(values: Any) -> list[str | None]:
    """Any 1-D array-like of categories as text (numbers as text; missing as ``None``)."""
    array = _one_dimensional(values)
    return [_category(x, i) for i, x in enumerate(array.tolist())]


def _counts(counts: Any, what: str) -> list[int]:
    array = np.asarray(counts)
    if array.ndim != 1 or array.dtype.kind not in "biuf":
        raise SchemaError(
            f"{what}: expected a 1-D array of counts, got `{array.dtype}` of shape `{array.shape}`"
        )
    if array.dtype.kind == "f" and not np.all(np.isfinite(array) & (array == np.round(array))):
        raise SchemaError(f"{what}: expected whole counts, got `{array.tolist()}`")
    if np.any(array < 0):
        raise SchemaError(f"{what}: expected counts ≥ 0, got `{array.tolist()}`")
    return [int(x) for x in array.tolist()]


class KsResult(NamedTuple):
    """Binned two-sample Kolmogorov–Smirnov."""

    statistic: float
    """``max |F_ref − F_live|`` over the slot boundaries (``scipy.stats.ks_2samp`` on the
    slot indices)."""
    p_value: float
    """Asymptotic p-value: ``kolmogorov_sf(sqrt(n m / (n + m)) · statistic)``."""
    error_bound: float
    """How far the statistic of the unbinned samples may lie above ``statistic``."""


class ChiSquareResult(NamedTuple):
    """Pearson's two-sample chi-square test of homogeneity of the reference and live counts."""

    statistic: float
    p_value: float
    dof: int


def psi(reference: Any, live: Any) -> float:
    """Population stability index of two count vectors over the same slots (an empty slot's
    share counts as 1e-4). 0 for identical distributions."""
    return _psi(_counts(reference, "reference"), _counts(live, "live"))


def ks(reference: Any, live: Any) -> KsResult:
    """Kolmogorov–Smirnov between reference and live counts over the same ordered slots."""
    return KsResult(*_ks(_counts(reference, "reference"), _counts(live, "live")))


def chi_square(reference: Any, live: Any) -> ChiSquareResult:
    """Two-sample chi-square test over the slots either side uses, as
    ``scipy.stats.chi2_contingency([reference, live], correction=False)``: the reference is a
    sample too, not the exact truth."""
    return ChiSquareResult(*_chi_square(_counts(reference, "reference"), _counts(live, "live")))


def jensen_shannon(reference: Any, live: Any) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]) of two count vectors, as
    ``scipy.spatial.distance.jensenshannon(reference, live, base=2)``."""
    return _jensen_shannon(_counts(reference, "reference"), _counts(live, "live"))


def hellinger(reference: Any, live: Any) -> float:
    """Hellinger distance ``sqrt(1 − Σ sqrt(p q))`` of two count vectors, in [0, 1]."""
    return _hellinger(_counts(reference, "reference"), _counts(live, "live"))


def wasserstein(edges: Any, reference: Any, live: Any, outside: float = 0.0) -> float:
    """Wasserstein-1 between counts over the slots of ``edges`` (``len(edges) + 1`` slots, each
    slot's mass at its :func:`slot_points` point) plus ``outside``, the exact mean distance of
    out-of-range live values. Not divided by a std (reports divide by the reference std)."""
    return _wasserstein(
        [float(x) for x in np.asarray(edges, dtype=np.float64).tolist()],
        _counts(reference, "reference"),
        _counts(live, "live"),
        float(outside),
    )


def kolmogorov_sf(x: float) -> float:
    """Survival function of the Kolmogorov distribution (``scipy.stats.kstwobign.sf``)."""
    return _kolmogorov_sf(float(x))


def slot_points(edges: Any) -> list[float]:
    """Where :func:`wasserstein` puts each slot's mass: underflow at the first edge, overflow
    at the last, every other slot at its midpoint."""
    return _slot_points([float(x) for x in np.asarray(edges, dtype=np.float64).tolist()])


def histogram(values: Any, edges: Any) -> list[int]:
    """Counts of ``values`` in the slots of ``edges``: underflow (below the first edge), then
    ``[e0, e1]``, ``(e1, e2]``, ..., then overflow; missing values are not counted."""
    return _histogram(values, [float(x) for x in np.asarray(edges, dtype=np.float64).tolist()])


def _kind_of(values: Any) -> str:
    dtype = getattr(values, "dtype", None)
    if dtype is None:
        dtype = np.asarray(values).dtype
    if type(dtype).__name__ == "CategoricalDtype":
        return "categorical"
    kind = getattr(dtype, "kind", "O")
    if kind in "biuf":
        return "numeric"
    if kind == "O":
        present = [x for x in _one_dimensional(values).tolist() if not _is_missing(x)]
        if present and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in present
        ):
            return "numeric"
    return "categorical"


def profile(
    values: Any,
    name: str = "value",
    *,
    kind: str | None = None,
    bins: int = 10,
    fine_bins: int = 100,
    max_categories: int = 100,
) -> ColumnProfile:
    """The reference profile of one array (numpy, pandas Series, list, pyarrow array).
    ``kind`` (``"numeric"`` or ``"categorical"``) defaults to the array's: numbers are numeric,
    anything else categorical."""
    kind = kind or _kind_of(values)
    if kind == "numeric":
        return ColumnProfile.numeric(values, name, bins=bins, fine_bins=fine_bins)
    if kind == "categorical":
        return ColumnProfile.categorical(values, name, max_categories=max_categories)
    raise OptionError(f"kind: expected `numeric` or `categorical`, got `{kind}`")


def compare(reference: Any, live: Any, *, kind: str | None = None, **options: Any) -> ColumnDrift:
    """``profile(reference, kind=kind).compare(live, **options)``: the drift of one live
    array from one reference array."""
    return profile(reference, kind=kind).compare(live, **options)

"""`tabship.drift` on plain arrays: known answers against scipy on the same binned data, column
profiles compared with live arrays, and degenerate inputs."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

import tabship
from tabship import drift


def expand(counts: Any) -> np.ndarray:
    """A sample with `counts[i]` copies of slot index i: the binned data as raw values."""
    return np.repeat(np.arange(len(counts)), counts)


def count_cases(seed: int, n: int = 25) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        k = int(rng.integers(2, 25))
        p = rng.dirichlet(np.ones(k))
        q = p if i % 3 == 0 else rng.dirichlet(np.ones(k))
        reference = rng.multinomial(int(rng.integers(50, 20000)), p) + 1
        live = rng.multinomial(int(rng.integers(20, 5000)), q)
        edges = np.cumsum(rng.uniform(0.1, 3.0, size=k - 1)) - 5.0
        cases.append((reference, live, edges))
    return cases


@pytest.mark.parametrize("case", count_cases(11), ids=lambda c: f"{len(c[0])}slots")
def test_count_statistics_against_scipy(case: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    reference, live, edges = case
    r, l = expand(reference), expand(live)
    got = drift.ks(reference, live)
    want = stats.ks_2samp(r, l)
    assert got.statistic == pytest.approx(want.statistic, abs=1e-12)
    en = len(r) * len(l) / (len(r) + len(l))
    assert got.p_value == pytest.approx(stats.kstwobign.sf(math.sqrt(en) * want.statistic), abs=1e-12)
    assert got.error_bound == pytest.approx(reference.max() / reference.sum(), abs=1e-12)

    chi = drift.chi_square(reference, live)
    used = (reference > 0) | (live > 0)
    want_chi = stats.chi2_contingency(np.array([reference[used], live[used]]), correction=False)
    assert chi.statistic == pytest.approx(want_chi.statistic, rel=1e-10)
    assert chi.p_value == pytest.approx(want_chi.pvalue, rel=1e-8, abs=1e-14)
    assert chi.dof == used.sum() - 1

    assert drift.jensen_shannon(reference, live) == pytest.approx(
        jensenshannon(reference, live, base=2), abs=1e-12
    )
    points = np.array(drift.slot_points(edges))
    assert drift.wasserstein(edges, reference, live) == pytest.approx(
        stats.wasserstein_distance(points, points, reference, live), rel=1e-10, abs=1e-12
    )
    p, q = reference / reference.sum(), live / live.sum()
    pe, qe = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    assert drift.psi(reference, live) == pytest.approx(np.sum((qe - pe) * np.log(qe / pe)), abs=1e-12)
    assert drift.hellinger(reference, live) == pytest.approx(
        math.sqrt(max(0.0, 1 - np.sum(np.sqrt(p * q)))), abs=1e-12
    )


def test_kolmogorov_sf_against_scipy() -> None:
    for x in np.linspace(0.0, 4.0, 41):
        assert drift.kolmogorov_sf(x) == pytest.approx(stats.kstwobign.sf(x), abs=1e-14)


def test_numeric_profile_report_against_scipy() -> None:
    rng = np.random.default_rng(5)
    reference = rng.normal(50, 10, size=20_000)
    # Live values inside the reference range, so that every live slot has reference rows.
    live = np.clip(rng.normal(53, 12, size=3000), reference.min(), reference.max())
    profile = drift.profile(reference, "x")
    assert (profile.name, profile.kind, profile.rows) == ("x", "numeric", 20_000)
    p = profile.to_dict()["distribution"]
    assert p["mean"] == pytest.approx(reference.mean(), rel=1e-12)
    assert p["std"] == pytest.approx(reference.std(), rel=1e-12)
    np.testing.assert_allclose(
        p["edges"], np.quantile(reference, np.linspace(0, 1, 11), method="lower"), rtol=1e-15
    )
    counts = profile.live_counts(live)
    assert counts["counts"] == drift.histogram(live, p["edges"])
    result = profile.compare(live)
    assert (result.statistic, result.live_count) == ("wasserstein", 3000)
    # KS over the fine slots = ks_2samp on slot indices; and it bounds the raw statistic.
    want = stats.ks_2samp(expand(p["fine_counts"]), expand(counts["fine_counts"]))
    assert result.ks == pytest.approx(want.statistic, abs=1e-12)
    raw = stats.ks_2samp(reference, live).statistic
    assert result.ks is not None and result.ks_error_bound is not None
    assert result.ks <= raw + 1e-12 <= result.ks + result.ks_error_bound + 2e-12
    # Chi-square (two-sample, on the 2 × k table) and Jensen–Shannon over the coarse slots.
    r, l = np.array(p["counts"]), np.array(counts["counts"])
    used = (r > 0) | (l > 0)
    want_chi = stats.chi2_contingency(np.array([r[used], l[used]]), correction=False)
    assert result.chi_square == pytest.approx(want_chi.statistic, rel=1e-10)
    assert result.chi_square_p_value == pytest.approx(want_chi.pvalue, rel=1e-8, abs=1e-14)
    assert result.jensen_shannon == pytest.approx(jensenshannon(r, l, base=2), abs=1e-12)
    # Wasserstein over the fine slots, divided by the reference std.
    points = drift.slot_points(p["fine_edges"])
    w = stats.wasserstein_distance(points, points, p["fine_counts"], counts["fine_counts"])
    assert result.wasserstein == pytest.approx(w / p["std"], rel=1e-10)
    # ... which is within a slot width of scipy's on the raw values.
    raw_w = stats.wasserstein_distance(reference, live) / reference.std()
    assert result.wasserstein == pytest.approx(raw_w, abs=0.02)
    assert result.mean_shift == pytest.approx((live.mean() - reference.mean()) / reference.std(), rel=1e-9)
    assert result.std_ratio == pytest.approx(live.std() / reference.std(), rel=1e-9)
    assert result.drifted and result.value >= result.threshold == 0.1


def test_categorical_profile_report_against_scipy() -> None:
    rng = np.random.default_rng(6)
    reference = rng.choice(["a", "b", "c", "d"], p=[0.4, 0.3, 0.2, 0.1], size=10_000)
    live = rng.choice(["a", "b", "c", "d", "new"], p=[0.3, 0.3, 0.2, 0.15, 0.05], size=800)
    profile = drift.profile(reference, "letters")
    assert profile.kind == "categorical"
    p = profile.to_dict()["distribution"]
    assert p["categories"] == ["a", "b", "c", "d"]
    result = profile.compare(live, min_expected_count=0)
    assert (result.statistic, result.live_count) == ("chi_square", 800)
    counts = profile.live_counts(live)
    assert counts["unknown"] == int(np.sum(live == "new"))
    assert result.unknown_rate == pytest.approx(np.mean(live == "new"))
    # Buckets: the kept categories, then everything else; "new" has no reference rows, which the
    # two-sample test on the 2 × k table takes as it is.
    r = np.array(p["counts"] + [p["other"]], dtype=float)
    l = np.array(counts["counts"] + [counts["other"] + counts["unknown"]], dtype=float)
    used = (r > 0) | (l > 0)
    want = stats.chi2_contingency(np.array([r[used], l[used]]), correction=False)
    assert result.chi_square == pytest.approx(want.statistic, rel=1e-10)
    assert result.chi_square_p_value == pytest.approx(want.pvalue, rel=1e-8, abs=1e-14)
    assert result.value == result.chi_square_p_value and result.drifted
    assert result.jensen_shannon == pytest.approx(jensenshannon(r, l, base=2), abs=1e-12)
    # Without new categories: scipy's plain test.
    same = rng.choice(["a", "b", "c", "d"], p=[0.4, 0.3, 0.2, 0.1], size=500)
    result = profile.compare(same)
    l = np.array(profile.live_counts(same)["counts"], dtype=float)
    r = np.array(p["counts"], dtype=float)
    want = stats.chi2_contingency(np.array([r, l]), correction=False)
    assert result.chi_square == pytest.approx(want.statistic, rel=1e-10)
    assert not result.drifted


def test_inputs_of_every_kind() -> None:
    values = [1.0, 2.0, None, 4.0, float("nan"), 6.0]
    want = drift.profile(np.array([1, 2, np.nan, 4, np.nan, 6.0])).to_dict()
    for given in [values, pd.Series(values, dtype="Float64"), pa.array(values), np.array(values, dtype=object)]:
        assert drift.profile(given).to_dict() == want
    assert want["distribution"]["missing"] == 2
    cats = ["x", None, "y", "x", float("nan"), pd.NA]
    want_cats = drift.profile(cats).to_dict()["distribution"]
    assert (want_cats["categories"], want_cats["counts"], want_cats["missing"]) == (["x", "y"], [2, 1], 3)
    assert drift.profile(pd.Series(cats, dtype="category")).to_dict()["distribution"] == want_cats
    assert drift.profile(pa.array(["x", None, "y", "x", None, None])).to_dict()["distribution"] == want_cats
    # Numbers as categories compare as text.
    ints = drift.profile([1, 2, 2], kind="categorical")
    assert ints.to_dict()["distribution"]["categories"] == ["2", "1"]
    live = ints.live_counts(["2", 2.0, 1, "3"])
    assert (live["counts"], live["unknown"]) == ([2, 1], 1)
    # Booleans and floats read as the pipeline's inputs read them (`True`, `0.0000001`).
    mixed = np.array([True, False, True, 1e-7, 1e16, 2.5], dtype=object)
    mixed = drift.profile(mixed, kind="categorical").to_dict()
    assert sorted(mixed["distribution"]["categories"]) == sorted(
        ["True", "False", "0.0000001", "10000000000000000", "2.5"]
    )
    with pytest.raises(tabship.SchemaError, match="1-D"):
        drift.profile(np.zeros((3, 2)))
    with pytest.raises(tabship.SchemaError, match="row 2: expected a number, got `'two'`"):
        drift.ColumnProfile.numeric([1.0, "two"])
    assert drift.ColumnProfile.numeric(["1.5", " 2", ""]).to_dict()["distribution"]["count"] == 2
    with pytest.raises(tabship.OptionError, match="kind"):
        drift.profile([1.0], kind="ordinal")
    with pytest.raises(tabship.OptionError, match="bins"):
        drift.profile([1.0], bins=0)


def test_degenerate_arrays_give_defined_results() -> None:
    def finite(c: drift.ColumnDrift) -> bool:
        return all(
            math.isfinite(v) for k, v in c.to_dict().items() if isinstance(v, float)
        )

    normal = drift.profile(np.random.default_rng(1).normal(size=500))
    empty = drift.profile(np.array([], dtype=float))
    all_missing = drift.profile([np.nan] * 10)
    constant = drift.profile([3.0] * 50)
    single = drift.profile(["only"] * 20)
    for profile in [normal, empty, all_missing, constant, single]:
        for live in [[], [np.nan] * 5, [3.0] * 5] if profile.kind == "numeric" else [[], [None] * 4, ["only"] * 4, ["other"] * 4]:
            result = profile.compare(live)
            assert finite(result), (profile, live, result)
    assert empty.compare([1.0, 2.0]).drifted is False
    assert not normal.compare([]).drifted
    assert normal.compare([np.nan] * 5).reasons == ["missing_rate"]
    assert not constant.compare([3.0] * 5).drifted
    assert constant.compare([4.0] * 50).drifted
    assert not single.compare(["only"] * 4).drifted
    assert single.compare(["other"] * 40).drifted
    for f in [drift.psi, drift.jensen_shannon, drift.hellinger]:
        assert f([0, 0], [1, 2]) == 0.0
    assert drift.ks([1, 2], [0, 0]) == (0.0, 1.0, 0.0)
    assert drift.chi_square([5, 0], [3, 0]) == (0.0, 1.0, 0)


def test_bad_counts_are_refused() -> None:
    with pytest.raises(tabship.SchemaError, match="same slots"):
        drift.psi([1, 2], [1, 2, 3])
    with pytest.raises(tabship.SchemaError, match="≥ 0"):
        drift.ks([1, -2], [1, 2])
    with pytest.raises(tabship.SchemaError, match="whole counts"):
        drift.chi_square([1.5, 2], [1, 2])
    with pytest.raises(tabship.SchemaError, match="edges"):
        drift.wasserstein([1.0], [1, 2, 3], [1, 2, 3])
    with pytest.raises(tabship.SchemaError, match="increasing"):
        drift.wasserstein([2.0, 1.0], [1, 2, 3], [1, 2, 3])
    with pytest.raises(tabship.SchemaError, match="finite"):
        drift.histogram([1.0], [0.0, np.inf])


def test_profiles_pickle_and_round_trip_json() -> None:
    profile = drift.profile(np.arange(100.0), "n")
    again = pickle.loads(pickle.dumps(profile))
    assert again == profile and again.to_dict() == profile.to_dict()
    assert drift.ColumnProfile.from_json(profile.to_json()) == profile
    assert profile != drift.profile(np.arange(101.0), "n")
    assert "numeric, 100 values" in repr(profile)
    with pytest.raises(tabship.SchemaError, match="JSON"):
        drift.ColumnProfile.from_json("{}")
    hostile = profile.to_dict()
    hostile["distribution"]["counts"][0] = 10**6
    import json

    with pytest.raises(tabship.ArtifactError, match="counts add up"):
        drift.ColumnProfile.from_json(json.dumps(hostile))


def test_compare_shortcut_and_options() -> None:
    rng = np.random.default_rng(9)
    reference, live = rng.normal(size=5000), rng.normal(0.3, 1, size=5000)
    result = drift.compare(reference, live)
    assert result == drift.profile(reference).compare(live)
    assert result.statistic == "wasserstein" and result.drifted
    assert drift.compare(reference, live, numeric_statistic="psi").statistic == "psi"
    assert not drift.compare(reference, live, wasserstein=0.9).drifted
    with pytest.raises(tabship.OptionError):
        drift.compare(reference, live, psi=-1.0)

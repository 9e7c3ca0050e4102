"""Cross-checks of tabship-drift's statistics against scipy on the same binned data.

The Rust side is the `stats_json` example (binned counts in, statistics out, as JSON). Run with
`bash scripts/test.sh`, or: `.venv/bin/python -m pytest crates/tabship-drift/tests/scipy`
(it builds the example with cargo unless TABSHIP_STATS_JSON names the binary).
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("TABSHIP_STATS_JSON")
    if path:
        return path
    subprocess.run(
        ["cargo", "build", "-q", "-p", "tabship-drift", "--example", "stats_json"],
        cwd=REPO,
        check=True,
    )
    return str(REPO / "target" / "debug" / "examples" / "stats_json")


def run(binary, cases):
    out = subprocess.run(
        [binary], input=json.dumps(cases), capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def random_cases(seed, n_cases=40):
    """Binned reference and live counts over the same slots, some shifted, some sparse."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n_cases):
        k = int(rng.integers(2, 30))
        p = rng.dirichlet(np.ones(k))
        q = p if i % 3 == 0 else rng.dirichlet(np.ones(k))
        reference = rng.multinomial(int(rng.integers(50, 20000)), p)
        live = rng.multinomial(int(rng.integers(20, 5000)), q)
        # Every reference slot non-empty (the contingency test needs no pseudo-count either way).
        reference = reference + 1
        edges = np.sort(rng.normal(size=k - 1) * 10)
        edges = np.unique(edges)
        if len(edges) != k - 1:
            continue
        cases.append(
            {"reference": reference.tolist(), "live": live.tolist(), "edges": edges.tolist()}
        )
    return cases


@pytest.fixture(scope="session")
def results(binary):
    cases = random_cases(7)
    return cases, run(binary, cases)


def expand(counts):
    """A sample with `counts[i]` copies of slot index i: the binned data as raw values."""
    return np.repeat(np.arange(len(counts)), counts)


def test_ks_statistic_equals_ks_2samp_on_slot_indices(results):
    for case, got in zip(*results):
        r, l = expand(case["reference"]), expand(case["live"])
        want = stats.ks_2samp(r, l)
        assert got["ks"] == pytest.approx(want.statistic, abs=1e-12)
        n, m = len(r), len(l)
        en = n * m / (n + m)
        assert got["ks_p_value"] == pytest.approx(
            stats.kstwobign.sf(np.sqrt(en) * want.statistic), abs=1e-12
        )
        # The asymptotic p-value agrees with scipy's asymptotic two-sample method.
        asymp = stats.ks_2samp(r, l, method="asymp").pvalue
        assert got["ks_p_value"] == pytest.approx(asymp, abs=0.02)
        assert got["ks_error_bound"] == pytest.approx(max(case["reference"]) / n, abs=1e-12)


def test_kolmogorov_survival_function(binary):
    # Disjoint samples of n rows each: D = 1 and sqrt(en) = sqrt(n / 2), swept through both
    # series of the Kolmogorov survival function (they switch at λ = 1).
    lams = np.linspace(0.05, 4.0, 60)
    cases = []
    for lam in lams:
        n = max(1, int(round(2 * lam * lam)))
        cases.append({"reference": [n, 0], "live": [0, n]})
    got = run(binary, cases)
    for case, g in zip(cases, got):
        n = case["reference"][0]
        assert g["ks"] == 1.0
        assert g["ks_p_value"] == pytest.approx(stats.kstwobign.sf(np.sqrt(n / 2)), abs=1e-14)


def test_chi_square_equals_scipy_chi2_contingency(results):
    for case, got in zip(*results):
        r = np.array(case["reference"], dtype=float)
        l = np.array(case["live"], dtype=float)
        used = (r > 0) | (l > 0)
        want = stats.chi2_contingency(np.array([r[used], l[used]]), correction=False)
        assert got["chi_square"] == pytest.approx(want.statistic, rel=1e-10)
        assert got["chi_square_p_value"] == pytest.approx(want.pvalue, rel=1e-8, abs=1e-14)
        assert got["chi_square_dof"] == want.dof == used.sum() - 1


def test_chi_square_with_slots_only_one_side_has(binary):
    # A category the reference never had, and one the live sample lacks: still the contingency
    # test on the used slots, with no pseudo-count.
    cases = [
        {"reference": [500, 300, 0, 20], "live": [40, 30, 25, 0]},
        {"reference": [84, 16, 0], "live": [0, 50, 0]},
    ]
    for case, got in zip(cases, run(binary, cases)):
        r, l = np.array(case["reference"]), np.array(case["live"])
        used = (r > 0) | (l > 0)
        want = stats.chi2_contingency(np.array([r[used], l[used]]), correction=False)
        assert got["chi_square"] == pytest.approx(want.statistic, rel=1e-10)
        assert got["chi_square_p_value"] == pytest.approx(want.pvalue, rel=1e-8, abs=1e-14)


def test_benjamini_hochberg_equals_scipy(binary):
    rng = np.random.default_rng(11)
    for size in (1, 2, 7, 74):
        p = np.concatenate([rng.uniform(size=size - size // 4), rng.uniform(0, 0.01, size // 4)])
        [got] = run(binary, [{"p_values": p.tolist()}])
        want = stats.false_discovery_control(p, method="bh")
        np.testing.assert_allclose(got["benjamini_hochberg"], want, rtol=1e-12, atol=1e-15)


def test_jensen_shannon_equals_scipy(results):
    for case, got in zip(*results):
        want = jensenshannon(case["reference"], case["live"], base=2)
        assert got["jensen_shannon"] == pytest.approx(want, abs=1e-12)


def test_wasserstein_equals_scipy_on_slot_points(results):
    for case, got in zip(*results):
        points = np.array(got["slot_points"])
        want = stats.wasserstein_distance(points, points, case["reference"], case["live"])
        assert got["wasserstein"] == pytest.approx(want, rel=1e-10, abs=1e-12)


def test_psi_and_hellinger_by_formula(results):
    for case, got in zip(*results):
        r = np.array(case["reference"], dtype=float)
        l = np.array(case["live"], dtype=float)
        p, q = r / r.sum(), l / l.sum()
        p_eps, q_eps = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
        assert got["psi"] == pytest.approx(np.sum((q_eps - p_eps) * np.log(q_eps / p_eps)), abs=1e-12)
        hellinger = np.sqrt(max(0.0, 1 - np.sum(np.sqrt(p * q))))
        assert got["hellinger"] == pytest.approx(hellinger, abs=1e-12)


def test_profile_quantiles_moments_and_binned_ks_bound(binary):
    rng = np.random.default_rng(3)
    values = rng.lognormal(size=5000)
    live = rng.lognormal(mean=0.1, size=800)
    [profile] = run(binary, [{"values": values.tolist()}])
    assert profile["mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert profile["std"] == pytest.approx(values.std(), rel=1e-12)
    want_edges = np.unique(np.quantile(values, np.linspace(0, 1, 11), method="lower"))
    # (serde_json's default float parsing may be one ulp off: compare to 1e-15.)
    np.testing.assert_allclose(profile["edges"], want_edges, rtol=1e-15)
    fine = np.array(profile["fine_edges"])
    want_fine = np.unique(np.quantile(values, np.linspace(0, 1, 101), method="lower"))
    # floor(j (n-1) / 100) and numpy's "lower" agree up to floating rounding of j/100.
    assert len(fine) == len(want_fine)
    np.testing.assert_allclose(fine, want_fine, rtol=1e-15)
    # Bin the live values on the fine edges with the documented slot rule, then the binned KS
    # statistic bounds the raw ks_2samp statistic from below, within the stated error bound.
    slots = np.where(
        live < fine[0],
        0,
        np.where(live > fine[-1], len(fine), np.maximum(1, np.searchsorted(fine, live, side="left"))),
    )
    live_counts = np.bincount(slots, minlength=len(fine) + 1)
    [got] = run(binary, [{"reference": profile["fine_counts"], "live": live_counts.tolist()}])
    raw = stats.ks_2samp(values, live).statistic
    assert got["ks"] <= raw + 1e-12
    assert raw <= got["ks"] + got["ks_error_bound"] + 1e-12

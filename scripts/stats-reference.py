"""Reference values for tabship-drift's champion/challenger statistics (src/compare/), computed
by scipy, statsmodels and scikit-learn, written to crates/tabship-drift/tests/fixtures/
compare-reference.json, which `cargo test -p tabship-drift --test it compare` reads.

Run with the project's environment (python/requirements-dev.txt pins statsmodels):
    .venv/bin/python scripts/stats-reference.py            # rewrite the fixture
    .venv/bin/python scripts/stats-reference.py --check    # fail if the fixture is stale

References:
- exact McNemar: statsmodels.stats.contingency_tables.mcnemar(exact=True) and
  scipy.stats.binomtest(b, b + c, 0.5); mid-p from scipy.stats.binom (2 cdf - pmf);
- metrics on weighted rows: scikit-learn's accuracy_score, f1_score(average="macro"),
  roc_auc_score, log_loss, mean_absolute_error, root_mean_squared_error on the rows repeated by
  their weights (np.repeat), which is what a bootstrap resample is;
- paired tests: scipy.stats.ttest_rel and scipy.stats.wilcoxon;
- the paired bootstrap interval: scipy.stats.bootstrap(paired=True, method="percentile") with
  many resamples (another generator: agreement within Monte Carlo error, not bit for bit);
- the mSPRT: no library implements it; `msprt` below is a second implementation written
  from Johari et al. (2017), eq. for the normal mixture, to catch slips in the Rust one, on
  error rates and (`msprt_loss`) on mean absolute errors (the per-arm count, sum and sum of
  squares; plug-in variance floored at a tenth of the pooled mean loss; τ relative to it).
"""

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn import metrics as skm
from statsmodels.stats.contingency_tables import mcnemar

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "crates" / "tabship-drift" / "tests" / "fixtures" / "compare-reference.json"


def mcnemar_cases():
    # Known tables first: Agresti's prime minister approval ratings ([[794, 150], [86, 570]],
    # "Categorical Data Analysis", 2nd ed., table 10.1) and mlxtend's mcnemar example
    # ([[9945, 25], [15, 15]]: exact p = 0.154); then small, tied, lopsided and large counts.
    tables = [(150, 86), (25, 15),
              (0, 0), (1, 5), (5, 1), (3, 3), (0, 7), (10, 20), (13, 27), (50, 80), (200, 260),
              (30, 0), (1234, 1300), (5000, 5200), (9, 31), (120, 95), (400, 520), (2, 1)]
    out = []
    for b, c in tables:
        table = [[100, b], [c, 50]]
        sm = mcnemar(table, exact=True)
        n, k = b + c, min(b, c)
        scipy_p = stats.binomtest(b, n, 0.5).pvalue if n > 0 else 1.0
        mid = 2 * stats.binom.cdf(k, n, 0.5) - stats.binom.pmf(k, n, 0.5) if n > 0 else 1.0
        out.append({"b": b, "c": c, "statistic": float(sm.statistic),
                    "statsmodels_p": float(sm.pvalue), "scipy_p": float(scipy_p),
                    "mid_p": float(min(1.0, mid))})
    return out


def classification_case(rng, rows, classes, skill):
    truth = rng.integers(0, classes, rows)
    logits = rng.normal(size=(rows, classes))
    logits[np.arange(rows), truth] += skill
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    # Tied scores (ROC AUC's half counts) and near-0/1 probabilities (log loss's clipping).
    proba = np.round(proba, 2 if rows % 2 else 6)
    proba[:, -1] = 1.0 - proba[:, :-1].sum(axis=1)
    proba = np.clip(proba, 0.0, 1.0)
    proba /= proba.sum(axis=1, keepdims=True)
    predicted = proba.argmax(axis=1)
    weights = rng.multinomial(rows, np.ones(rows) / rows)
    case = {"classes": classes, "truth": truth.tolist(), "predicted": predicted.tolist(),
            "proba_of_truth": proba[np.arange(rows), truth].tolist(),
            "positive_score": proba[:, 1].tolist() if classes == 2 else None,
            "weights": weights.tolist()}
    expected = {}
    for name, w in (("unweighted", np.ones(rows, dtype=int)), ("weighted", weights)):
        t, p, pr = np.repeat(truth, w), np.repeat(predicted, w), np.repeat(proba, w, axis=0)
        values = {"accuracy": skm.accuracy_score(t, p),
                  "f1": skm.f1_score(t, p, average="macro", zero_division=0),
                  "log-loss": skm.log_loss(t, pr, labels=list(range(classes)))}
        if classes == 2:
            values["roc-auc"] = skm.roc_auc_score(t, pr[:, 1])
        expected[name] = {k: float(v) for k, v in values.items()}
    case["expected"] = expected
    return case


def regression_case(rng, rows):
    truth = rng.normal(50, 10, rows)
    predicted = truth + rng.standard_t(3, rows) * 4
    weights = rng.multinomial(rows, np.ones(rows) / rows)
    expected = {}
    for name, w in (("unweighted", np.ones(rows, dtype=int)), ("weighted", weights)):
        t, p = np.repeat(truth, w), np.repeat(predicted, w)
        expected[name] = {"mae": float(skm.mean_absolute_error(t, p)),
                          "rmse": float(skm.root_mean_squared_error(t, p))}
    return {"truth": truth.tolist(), "predicted": predicted.tolist(),
            "weights": weights.tolist(), "expected": expected}


def paired_cases(rng):
    out = []
    specs = [(8, "plain"), (20, "plain"), (50, "plain"), (51, "plain"), (300, "plain"),
             (30, "ties"), (40, "zeros"), (12, "zeros"), (2000, "ties"), (1000, "shifted")]
    for rows, kind in specs:
        first = np.abs(rng.normal(0, 3, rows))
        second = np.abs(rng.normal(0.3 if kind == "shifted" else 0, 3, rows))
        if kind == "ties":
            first, second = np.round(first), np.round(second)
        if kind == "zeros":
            second[:5] = first[:5]
        d = first - second
        t = stats.ttest_rel(first, second)
        nonzero = d[d != 0]
        ties = len(np.unique(np.abs(nonzero))) < len(nonzero)
        small_tied = len(d) <= 13 and (ties or len(nonzero) < len(d))
        # scipy permutes for at most 13 rows with zeros or ties; tabship takes the normal
        # approximation there (documented), so ask scipy for it.
        w = stats.wilcoxon(d, method="asymptotic" if small_tied else "auto")
        out.append({"kind": kind, "first": first.tolist(), "second": second.tolist(),
                    "t_statistic": float(t.statistic), "t_p": float(t.pvalue),
                    "wilcoxon_statistic": float(w.statistic), "wilcoxon_p": float(w.pvalue)})
    return out


def bootstrap_case(kind, truth, a, b, difference, seed):
    """scipy's paired percentile interval of `difference(truth, a, b)`, 20,000 resamples."""
    res = stats.bootstrap((truth, a, b), difference, paired=True, vectorized=False,
                          n_resamples=20000, confidence_level=0.95, method="percentile",
                          random_state=seed)
    return {"kind": kind, "truth": truth.tolist(), "first": a.tolist(), "second": b.tolist(),
            "low": float(res.confidence_interval.low),
            "high": float(res.confidence_interval.high),
            "standard_error": float(res.standard_error)}


def bootstrap_cases(rng):
    """Paired percentile intervals of accuracy and MAE differences by scipy, many resamples."""
    rows = 600
    truth = rng.integers(0, 2, rows)
    a = np.where(rng.random(rows) < 0.80, truth, 1 - truth)
    b = np.where(rng.random(rows) < 0.85, truth, 1 - truth)
    accuracy = bootstrap_case("accuracy", truth, a, b,
                              lambda t, x, y: np.mean(y == t) - np.mean(x == t), 1)
    truth = rng.normal(0, 5, rows)
    a = truth + rng.normal(0, 2, rows)
    b = truth + rng.normal(0, 1.8, rows)
    mae = bootstrap_case("mae", truth, a, b,
                         lambda t, x, y: np.mean(np.abs(y - t)) - np.mean(np.abs(x - t)), 2)
    return [accuracy, mae]


def msprt(events, alpha, tau, min_labels):
    """Second implementation of the normal-mixture mSPRT (see src/compare/sequential.rs)."""
    n = [0, 0]
    e = [0, 0]
    p, low, high = 1.0, -1.0, 1.0
    trace = []
    for arm, error in events:
        n[arm] += 1
        e[arm] += error
        if min(n) >= max(min_labels, 1):
            theta = e[0] / n[0] - e[1] / n[1]
            s = [(e[i] + 1) / (n[i] + 2) for i in range(2)]
            v = sum(s[i] * (1 - s[i]) / n[i] for i in range(2))
            t2 = tau * tau
            lam = math.sqrt(v / (v + t2)) * math.exp(t2 * theta**2 / (2 * v * (v + t2)))
            p = min(p, 1 / lam)
            half = math.sqrt(2 * v * (v + t2) / t2 * math.log(math.sqrt((v + t2) / v) / alpha))
            low, high = max(low, theta - half), min(high, theta + half)
        trace.append([p, low, high])
    return trace


def msprt_loss(events, alpha, tau, min_labels):
    """Second implementation of the mSPRT on mean losses (see src/compare/sequential.rs)."""
    n = [0, 0]
    total = [0.0, 0.0]
    squares = [0.0, 0.0]
    p, low, high = 1.0, -sys.float_info.max, sys.float_info.max
    trace = []
    for arm, loss in events:
        n[arm] += 1
        total[arm] += loss
        squares[arm] += loss * loss
        scale = (total[0] + total[1]) / (n[0] + n[1])
        if min(n) >= max(min_labels, 1) and scale > 0:
            mean = [total[i] / n[i] for i in range(2)]
            theta = mean[0] - mean[1]
            floor = scale / 10
            v = sum(max(squares[i] / n[i] - mean[i] ** 2, floor * floor) / n[i] for i in range(2))
            t2 = (tau * scale) ** 2
            lam = math.sqrt(v / (v + t2)) * math.exp(t2 * theta**2 / (2 * v * (v + t2)))
            p = min(p, 1 / lam)
            half = math.sqrt(2 * v * (v + t2) / t2 * math.log(math.sqrt((v + t2) / v) / alpha))
            low, high = max(low, theta - half), min(high, theta + half)
            if low > high:
                low = high = theta
        trace.append([p, low, high])
    return trace


def sequential_loss_cases(rng):
    """Absolute errors of two regressors: |N(0, σ)| per arm, then one with many exact zeros, then
    constant losses per arm (σ itself: zero spread, so the variance floor decides)."""
    out = []
    for sigmas, share, steps, zeros in (((1.0, 1.0), 0.5, 3000, 0.0),
                                        ((1.0, 0.9), 0.5, 3000, 0.0),
                                        ((2.0, 1.4), 0.1, 2000, 0.0),
                                        ((0.5, 0.55), 0.7, 4000, 0.0),
                                        ((1.0, 0.8), 0.5, 2000, 0.6),
                                        ((1.0, 0.98), 0.5, 2000, -1.0)):
        arms = (rng.random(steps) < share).astype(int)
        losses = np.abs(rng.normal(0, 1, steps)) * np.array(sigmas)[arms]
        losses = np.where(rng.random(steps) < zeros, 0.0, losses)
        if zeros < 0:
            losses = np.array(sigmas)[arms].astype(float)
        events = list(zip(arms.tolist(), losses.tolist()))
        trace = msprt_loss(events, 0.05, 0.05, 30)
        out.append({"sigmas": sigmas, "zeros": zeros, "alpha": 0.05, "tau": 0.05,
                    "min_labels": 30, "events": events, "trace": trace[::50] + [trace[-1]],
                    "every": 50})
    return out


def sequential_cases(rng):
    out = []
    for rates, share, steps in (((0.2, 0.2), 0.5, 3000), ((0.25, 0.18), 0.5, 3000),
                                ((0.3, 0.1), 0.1, 2000), ((0.1, 0.14), 0.7, 4000)):
        arms = (rng.random(steps) < share).astype(int)
        errors = (rng.random(steps) < np.array(rates)[arms]).astype(int)
        events = list(zip(arms.tolist(), errors.tolist()))
        trace = msprt(events, 0.05, 0.05, 30)
        out.append({"rates": rates, "alpha": 0.05, "tau": 0.05, "min_labels": 30,
                    "events": events, "trace": trace[::50] + [trace[-1]],
                    "every": 50})
    return out


def build():
    rng = np.random.default_rng(20261201)
    return {
        "generator": "scripts/stats-reference.py",
        "versions": {"scipy": __import__("scipy").__version__,
                     "statsmodels": __import__("statsmodels").__version__,
                     "sklearn": __import__("sklearn").__version__,
                     "numpy": np.__version__},
        "mcnemar": mcnemar_cases(),
        "classification": [classification_case(rng, r, k, s) for r, k, s in
                           ((40, 2, 1.0), (301, 2, 2.0), (500, 2, 0.3), (250, 3, 1.5),
                            (401, 5, 1.0))],
        "regression": [regression_case(rng, r) for r in (30, 500)],
        "paired": paired_cases(rng),
        "bootstrap": bootstrap_cases(rng),
        "sequential": sequential_cases(rng),
        "sequential_loss": sequential_loss_cases(rng),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the fixture is stale")
    args = parser.parse_args()
    text = json.dumps(build(), separators=(",", ":")) + "\n"
    if args.check:
        if FIXTURE.read_text() != text:
            sys.exit(f"{FIXTURE} is stale: rerun scripts/stats-reference.py")
        return
    FIXTURE.write_text(text)
    print(f"wrote {FIXTURE} ({len(text)} bytes)")


if __name__ == "__main__":
    main()

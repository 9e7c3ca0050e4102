"""Smoke test of benches/compare/fit.py (the fit benchmark), so it cannot silently rot: on 2,000
adult rows and on iris with 5 trees / rounds, every contestant either reports sane numbers or
is "not available" exactly when the binary lacks its flag, and fit.py's metrics (from
`tabship predict --proba` on its test CSV) agree with the ones `tabship train` reports on its own
holdout rows (same split, same test rows)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, TESTDATA

FIT = REPO / "benches" / "compare" / "fit.py"
CONTESTANTS = {
    "tabship hist forest", "tabship smartcore forest", "scikit-learn RandomForest",
    "tabship gradient boosting", "LightGBM", "scikit-learn HistGradientBoosting",
}


def unavailable(cli: Path) -> set[str]:
    """The tabship contestants whose flags `tabship train --help` does not list."""
    help_text = subprocess.run(
        [str(cli), "train", "--help"], capture_output=True, text=True, check=True
    ).stdout
    missing = set()
    if "--tree-learner" not in help_text:
        missing.add("tabship hist forest")
    if "gradient-boosting" not in help_text:
        missing.add("tabship gradient boosting")
    return missing


@pytest.mark.slow
def test_fit_bench_reports_every_contestant(cli: Path, tmp_path: Path) -> None:
    pytest.importorskip("lightgbm")
    out = tmp_path / "fit.json"
    proc = subprocess.run(
        [sys.executable, str(FIT), "--tabship", str(cli), "--data", str(TESTDATA),
         "--work", str(tmp_path / "work"), "--cases", "adult_sample:income:2000,iris",
         "--n-trees", "5", "--json", str(out)],
        capture_output=True, text=True, cwd=REPO, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert [c["name"] for c in report["cases"]] == ["adult_sample:income:2000", "iris"]
    missing = unavailable(cli)
    for case in report["cases"]:
        assert case["classification"]
        assert case["train_rows"] + case["test_rows"] == case["rows"]
        assert case["rows"] == (2000 if case["name"].startswith("adult") else 150)
        entries = {e["contestant"]: e for e in case["contestants"]}
        assert set(entries) == CONTESTANTS
        assert {n for n, e in entries.items() if not e["available"]} == missing
        # A majority-class guess scores 0.76 on adult and 0.33 on iris; a uniform guess has a
        # log loss of ln 2 / ln 3, which boosting (from the class prior, 5 rounds) beats. A
        # 5-tree forest may give a test row's class probability 0 (clipped to 2^-52: 36 nats).
        floor, uniform = (0.7, math.log(2)) if case["name"].startswith("adult") else (0.8,
                                                                                     math.log(3))
        for name, e in entries.items():
            if not e["available"]:
                assert "runs" in e and not e["runs"], name
                continue
            m = e["metrics"]
            assert floor <= m["accuracy"] <= 1.0, (case["name"], name, m)
            ceiling = uniform if e["family"] == "boosting" else 5.0
            assert 0.0 < m["log_loss"] < ceiling, (case["name"], name, m)
            assert e["fit_seconds"] > 0 and e["peak_rss_mb"] > 1, (case["name"], name, e)
            assert e["rss_per_csv"] == pytest.approx(e["peak_rss_mb"] / case["csv_mb"])
            ref = entries["scikit-learn RandomForest" if e["family"] == "forest" else "LightGBM"]
            assert e["time_ratio"] == pytest.approx(e["fit_seconds"] / ref["fit_seconds"])
            if e["library"] == "tabship":
                own = e["runs"][0]["tabship_metrics"]
                assert m["accuracy"] == pytest.approx(own["accuracy"], abs=1e-12), name
                assert m["log_loss"] == pytest.approx(own["log_loss"], rel=1e-6), name

"""The README's Python drift snippet runs (with its names bound to real data)."""

from __future__ import annotations

import numpy as np

import tabship
from conftest import GOLDEN, TESTDATA, read_csv, readme_python_block


def test_readme_drift_snippet_runs() -> None:
    snippet = readme_python_block("pipeline.drift(")
    adult = read_csv(TESTDATA / "adult_sample.csv")
    pipeline = tabship.Pipeline.load(GOLDEN / "adult_logistic_profile.tabship")
    live = adult.sample(n=2000, random_state=0)
    y_true = live["income"].to_numpy()
    y_pred = pipeline.predict(live)
    names = {
        "pipeline": pipeline,
        "this_week_df": live,
        "batch": live.iloc[:500],
        "train": adult,
        "live": live,
        "reference_counts": np.array([10, 20, 30]),
        "live_counts": np.array([12, 18, 33]),
        "y_pred": y_pred,
        "y_true": y_true,
    }
    exec(compile(snippet, "README.md", "exec"), names)
    assert names["monitor"].total_rows == 500  # type: ignore[attr-defined]
    assert not names["report"].drifted  # type: ignore[attr-defined]

"""`tabship.retrain`: the champion's recorded options refitted on new rows, as `tabship retrain`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tabship
from conftest import GOLDEN, TESTDATA, read_csv, run_cli

IRIS = TESTDATA / "iris.csv"
ADULT = TESTDATA / "adult_sample.csv"


def test_a_refit_on_the_champions_rows_reproduces_it(tmp_path: Path) -> None:
    champion = tabship.train(
        ADULT, "income", "random_forest", n_trees=7, max_depth=5, min_samples_leaf=3,
        encoding="ordinal", impute="mean", missing_indicator=True, seed=9, threads=1,
        name="adult", version="v4",
    )
    path = tmp_path / "champion.tabship"
    champion.save(path)
    challenger = tabship.retrain(path, ADULT, reason="weekly", threads=1)
    rows = read_csv(ADULT).drop(columns=["income"])
    np.testing.assert_array_equal(challenger.predict_proba(rows), champion.predict_proba(rows))
    assert challenger.metrics == champion.metrics
    meta = challenger.metadata
    assert (meta["name"], meta["version"]) == ("adult", "v5")
    assert meta["hyperparameters"] == champion.metadata["hyperparameters"]
    origin = meta["retrained_from"]
    assert (origin["name"], origin["version"], origin["reason"]) == ("adult", "v4", "weekly")
    assert (origin["new_rows"], origin["old_rows"]) == (len(rows), 0)
    assert origin["checksum"].startswith("sha256:") and len(origin["checksum"]) == 71


def test_the_old_window_and_the_cli_agree(tmp_path: Path, cli: Path) -> None:
    lines = IRIS.read_text().splitlines(keepends=True)
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text("".join(lines[:101]))
    new.write_text(lines[0] + "".join(lines[101:]))
    champion_path = tmp_path / "iris.tabship"
    tabship.train(old, "species", name="iris").save(champion_path)
    # The champion knows two species (iris is sorted), the window and the new rows all three.
    with pytest.warns(UserWarning, match="challenger's classes .* differ"):
        from_python = tabship.retrain(champion_path, new, with_old=old, old_window=60, version="9")
    out = tmp_path / "cli.tabship"
    run_cli(cli, "retrain", champion_path, new, "--with-old", old, "--old-window", 60,
            "--model-version", 9, "-o", out)
    from_cli = tabship.Pipeline.load(out)
    rows = read_csv(IRIS).drop(columns=["species"])
    np.testing.assert_array_equal(from_python.predict_proba(rows), from_cli.predict_proba(rows))
    origin = from_python.metadata["retrained_from"]
    assert origin == from_cli.metadata["retrained_from"]
    assert (origin["new_rows"], origin["old_rows"]) == (50, 60)
    inspected = json.loads(run_cli(cli, "inspect", champion_path, "--json"))
    assert origin["checksum"] == inspected["checksum"]


def test_imported_models_and_misuse_are_refused() -> None:
    with pytest.raises(tabship.TabshipError, match="imported from xgboost"):
        tabship.retrain(GOLDEN / "adult_xgboost.tabship", ADULT)
    with pytest.raises(TypeError, match="old_window needs with_old"):
        tabship.retrain(GOLDEN / "iris_logistic.tabship", IRIS, old_window=5)
    iris = tabship.train(IRIS, "species")
    with pytest.raises(tabship.SchemaError, match="sepal_length"):
        tabship.retrain(iris, ADULT)

"""Missing-value spellings and CSV dialects from Python: the same policy as the CLI, stored in the
artifact and applied to every input form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tabship
from conftest import TESTDATA, read_csv

IRIS = TESTDATA / "iris.csv"


def test_the_usual_spellings_are_missing_in_numeric_columns() -> None:
    pipeline = tabship.train(IRIS, target="species")
    record = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
    imputed = pipeline.predict_proba({**record, "sepal_width": None})
    for na in ("NA", "null", "NULL", "None", "?", "-", "N/A", "nan"):
        assert pipeline.predict_proba({**record, "sepal_width": na}) == imputed, na
    frame = pd.DataFrame([{**record, "sepal_width": "NA"}, {**record, "sepal_width": None}])
    proba = pipeline.predict_proba(frame)
    np.testing.assert_array_equal(proba[0], proba[1])
    with pytest.raises(tabship.SchemaError, match="got `n.a.`"):
        pipeline.predict({**record, "sepal_width": "n.a."})
    assert "NA" in tabship.DEFAULT_NA_VALUES and "?" in tabship.DEFAULT_NA_VALUES


def test_na_values_are_stored_and_used_for_every_input(tmp_path: Path) -> None:
    df = read_csv(IRIS)
    text = df.astype({"petal_length": object})
    text.loc[::30, "petal_length"] = "n.a."
    with pytest.warns(UserWarning, match=r"column `petal_length` is numeric except for `n.a.` \(5 rows\)"):
        tabship.train(text, target="species")
    path = tmp_path / "few.csv"
    text.to_csv(path, index=False)
    pipeline = tabship.train(path, target="species", na_values=["n.a."])
    assert pipeline.schema["petal_length"] == "numeric"
    assert pipeline.format_version == "1.3"
    again = tabship.Pipeline.from_bytes(pipeline.to_bytes())
    record = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": "n.a.", "petal_width": 0.2}
    assert again.predict_proba(record) == again.predict_proba({**record, "petal_length": None})
    assert len(again.predict(text)) == len(text)
    strict = tabship.train(path, target="species", na_values="n.a.", keep_default_na=False)
    with pytest.raises(tabship.SchemaError, match="got `NA`"):
        strict.predict({**record, "petal_length": "NA"})


def test_csv_dialect_options(tmp_path: Path) -> None:
    df = read_csv(IRIS)
    path = tmp_path / "eu.csv"
    df.to_csv(path, sep=";", decimal=",", index=False, encoding="latin-1")
    with pytest.raises(tabship.TabshipError, match="--delimiter ';'"):
        tabship.train(path, target="species")
    pipeline = tabship.train(path, target="species", delimiter=";", decimal=",", file_encoding="latin-1")
    want = tabship.train(IRIS, target="species")
    np.testing.assert_array_equal(pipeline.predict_proba(df), want.predict_proba(df))
    with pytest.raises(tabship.OptionError, match="unknown text encoding `klingon`"):
        tabship.train(path, target="species", delimiter=";", file_encoding="klingon")
    with pytest.raises(TypeError, match="apply to a CSV path"):
        tabship.train(df, target="species", delimiter=";")

"""Artifacts cross between Python and the `tabship` CLI with identical predictions and metrics."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tabship
from conftest import GOLDEN, TESTDATA, read_csv, read_text_csv, run_cli

# Builds and runs the CLI, and trains on the whole adult sample.
pytestmark = pytest.mark.slow


def cli_predictions(cli: Path, model: Path, data: Path, tmp_path: Path) -> object:
    out = tmp_path / "scored.csv"
    proba = ["--proba"] if tabship.Pipeline.load(model).task == "classification" else []
    run_cli(cli, "predict", model, data, *proba, "-o", out)
    return read_text_csv(out)


def assert_same(pipeline: tabship.Pipeline, scored: object, inputs: Path) -> None:
    df = read_csv(inputs)
    predicted = pipeline.predict(df)
    if pipeline.task == "classification":
        assert [str(x) for x in predicted] == list(scored["prediction"])  # type: ignore[index]
        proba = pipeline.predict_proba(df)
        for k, cls in enumerate(pipeline.classes):
            want = [float(x) for x in scored[f"probability_{cls}"]]  # type: ignore[index]
            assert proba[:, k].tolist() == want
    else:
        want = [float(x) for x in scored["prediction"]]  # type: ignore[index]
        assert predicted.tolist() == want


@pytest.mark.parametrize(
    ("data", "target", "options"),
    [
        (TESTDATA / "adult_sample.csv", "income", {"model": "logistic"}),
        (TESTDATA / "adult_sample.csv", "income", {"model": "random-forest", "n_trees": 10, "max_depth": 8}),
        (TESTDATA / "diamonds_sample.csv", "price", {"model": "ridge"}),
        (TESTDATA / "iris.csv", "species", {"model": "decision-tree"}),
    ],
    ids=["adult-logistic", "adult-forest", "diamonds-ridge", "iris-tree"],
)
def test_python_artifacts_predict_identically_in_the_cli(
    cli: Path, tmp_path: Path, data: Path, target: str, options: dict[str, object]
) -> None:
    pipeline = tabship.train(read_csv(data), target=target, **options)  # type: ignore[arg-type]
    model = tmp_path / "model.tabship"
    pipeline.save(model)
    assert model.read_bytes() == pipeline.to_bytes()
    inputs = GOLDEN / ("adult_inputs.csv" if target == "income" else "diamonds_inputs.csv")
    if target == "species":
        inputs = TESTDATA / "iris.csv"
    assert_same(pipeline, cli_predictions(cli, model, inputs, tmp_path), inputs)
    # The CLI's evaluate gives the metrics Python's evaluate gives.
    cli_report = json.loads(run_cli(cli, "evaluate", model, inputs, "--json"))
    py_report = pipeline.evaluate(read_csv(inputs))
    skipped = py_report.pop("skipped")
    assert py_report == cli_report["metrics"]
    assert skipped == cli_report["skipped"]


def test_cli_artifacts_predict_identically_in_python(cli: Path, tmp_path: Path) -> None:
    model = tmp_path / "adult.tabship"
    run_cli(
        cli, "train", TESTDATA / "adult_sample.csv", "--target", "income",
        "--model", "random-forest", "--n-trees", "8", "--max-depth", "6", "-o", model,
    )
    pipeline = tabship.Pipeline.load(model)
    inputs = GOLDEN / "adult_inputs.csv"
    assert_same(pipeline, cli_predictions(cli, model, inputs, tmp_path), inputs)
    # Saved again from Python: the same bytes.
    again = tmp_path / "again.tabship"
    pipeline.save(again)
    assert again.read_bytes() == model.read_bytes()


def test_training_from_a_frame_equals_training_from_the_csv(tmp_path: Path) -> None:
    data = TESTDATA / "adult_sample.csv"
    from_csv = tabship.train(data, target="income", seed=7)
    from_frame = tabship.train(read_csv(data), target="income", seed=7)
    assert from_csv.schema == from_frame.schema
    assert from_csv.metrics == from_frame.metrics
    assert from_csv.metadata["data_fingerprint"] == from_frame.metadata["data_fingerprint"]
    inputs = read_csv(GOLDEN / "adult_inputs.csv")
    np.testing.assert_array_equal(from_csv.predict_proba(inputs), from_frame.predict_proba(inputs))


def test_boosted_cli_artifact_scores_bit_identically_in_rust_python_and_http(
    cli: Path, tmp_path: Path
) -> None:
    """A gradient-boosting artifact trained by the CLI: `tabship predict`, Python's
    `Pipeline.predict_proba` and `tabship serve`'s /predict give the same probabilities, compared
    as exact floats (the CSV and JSON texts are shortest round-trip forms of the f64s)."""
    import requests

    model = tmp_path / "boosted.tabship"
    run_cli(
        cli, "train", TESTDATA / "adult_sample.csv", "--target", "income",
        "--model", "gradient-boosting", "--n-trees", "30", "-o", model,
    )
    pipeline = tabship.Pipeline.load(model)
    assert pipeline.metadata["algorithm"] == "gradient-boosting"
    inputs = GOLDEN / "adult_inputs.csv"
    scored = cli_predictions(cli, model, inputs, tmp_path)
    assert_same(pipeline, scored, inputs)
    proba = pipeline.predict_proba(read_csv(inputs))
    records = json.loads(read_text_csv(inputs).to_json(orient="records"))
    schema = pipeline.schema
    for record in records:
        for name in list(record):
            if name not in schema:
                del record[name]
            elif record[name] in ("", None):
                record[name] = None
            elif schema[name] == "numeric":
                record[name] = float(record[name])
    server = subprocess.Popen(
        [str(cli), "serve", str(model), "--host", "127.0.0.1", "--port", "0", "--json-logs"],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        url = None
        for line in server.stderr:  # type: ignore[union-attr]
            event = json.loads(line)
            if event["fields"].get("message") == "listening":
                url = "http://" + event["fields"]["address"]
                break
        assert url is not None, "the server did not start"
        # Drain the log so the pipe never fills, then wait until the model is loaded.
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()  # type: ignore[union-attr]
        deadline = time.monotonic() + 60
        while requests.get(url + "/health/ready", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.05)
        r = requests.post(url + "/predict", json=records, timeout=60)
        assert r.status_code == 200, r.text
        answers = r.json()["probabilities"]
        assert len(answers) == len(records)
        for row, answer in enumerate(answers):
            got = [answer[str(c)] for c in pipeline.classes]
            assert got == proba[row].tolist(), row
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()  # type: ignore[union-attr]

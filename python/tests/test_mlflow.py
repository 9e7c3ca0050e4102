"""The MLflow flavour against a real MLflow: a local tracking store and model registry in
tmp_path, `tabship.mlflow.log_model` / `load_model`, the pyfunc model, the `@champion` alias,
`mlflow models serve` over HTTP and `mlflow.pyfunc.spark_udf` (the last two slow).

The store is MLflow's file store (`file://.../mlruns`, tracking and registry), which MLflow 3.17
refuses unless `MLFLOW_ALLOW_FILE_STORE=true`: its SQLite store emits SQLAlchemy 2.1's
`SADeprecationWarning` (for MLflow's `noload` relationships) on first use, which `-W error`
turns into a failure, and the file store needs no schema migration (log + register take
~0.6 s)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import tabship
from conftest import GOLDEN, REPO, TESTDATA, read_csv, readme_python_block

with warnings.catch_warnings():
    # mlflow.pyfunc warns about its own Any-typed agent schemas when first imported.
    warnings.filterwarnings("ignore", message=".*Any type hint is inferred as AnyType", category=UserWarning)
    pytest.importorskip("mlflow")
    import mlflow
    import mlflow.pyfunc
    import tabship.mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

CLASSIFIER = GOLDEN / "adult_forest.tabship"
CHALLENGER = GOLDEN / "adult_logistic.tabship"
REGRESSOR = GOLDEN / "diamonds_forest.tabship"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh tracking store and registry in tmp_path (through the environment, so servers
    started by a test use it too)."""
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    assert mlflow.get_tracking_uri() == uri
    return uri


def rows(artifact: Path, n: int = 400) -> pd.DataFrame:
    """Real rows for `artifact` (adult or diamonds), numeric columns as float64 (MLflow refuses
    int64 for `double` columns), with some missing values."""
    pipeline = tabship.Pipeline.load(artifact)
    source = "adult_sample.csv" if "adult" in artifact.name else "diamonds_sample.csv"
    df = read_csv(TESTDATA / source).sample(n=n, random_state=1)[list(pipeline.schema)]
    numeric = [c for c, kind in pipeline.schema.items() if kind == "numeric"]
    df = df.astype({c: "float64" for c in numeric})
    categorical = [c for c, kind in pipeline.schema.items() if kind == "categorical"]
    df.iloc[::7, df.columns.get_loc(numeric[0])] = np.nan
    df.iloc[3::11, df.columns.get_loc(categorical[0])] = None
    return df


def expected(pipeline: tabship.Pipeline, x: pd.DataFrame) -> pd.DataFrame | pd.Series:
    """What the pyfunc model must answer, computed from the pipeline directly."""
    prediction = pd.Series(pipeline.predict(x), index=x.index, name="prediction")
    if pipeline.task == "regression":
        return prediction
    proba = pipeline.predict_proba(x)
    columns = {"prediction": prediction}
    columns.update({f"probability_{c}": pd.Series(proba[:, i], index=x.index) for i, c in enumerate(pipeline.classes)})
    return pd.DataFrame(columns)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("artifact", [CLASSIFIER, REGRESSOR], ids=["classifier", "regressor"])
def test_log_and_load_keep_the_artifact_and_its_predictions(store: str, tmp_path: Path, artifact: Path) -> None:
    original = tabship.Pipeline.load(artifact)
    with mlflow.start_run():
        info = tabship.mlflow.log_model(original, name="model")
    # The artifact is stored unchanged.
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "dl")))
    assert sha256(local / "model.tabship") == sha256(artifact)
    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    assert mlmodel["flavors"]["tabship"] == {
        "tabship_version": tabship.__version__,
        "format_version": original.format_version,
        "data": "model.tabship",
        "sha256": sha256(artifact),
        "task": original.task,
        "pyfunc_output": "prediction" if original.task == "regression" else "prediction_and_probabilities",
        "code": None,
    }
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "tabship.mlflow"
    assert mlmodel["flavors"]["python_function"]["data"] == "model.tabship"
    assert f"tabship=={tabship.__version__}" in (local / "requirements.txt").read_text().split()

    x = rows(artifact)
    loaded = tabship.mlflow.load_model(info.model_uri)
    assert isinstance(loaded, tabship.Pipeline)
    np.testing.assert_array_equal(loaded.predict(x), original.predict(x))
    if original.task == "classification":
        # Bit-identical: the same artifact, the same numbers.
        assert loaded.predict_proba(x).tobytes() == original.predict_proba(x).tobytes()

    model = mlflow.pyfunc.load_model(info.model_uri)
    assert model.get_raw_model().to_bytes() == original.to_bytes()
    got = model.predict(x)
    want = expected(original, x)
    if isinstance(want, pd.Series):
        pd.testing.assert_series_equal(got, want, check_exact=True)
    else:
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_a_tabship_file_is_logged_byte_for_byte_and_checked_on_load(store: str, tmp_path: Path) -> None:
    with mlflow.start_run():
        info = tabship.mlflow.log_model(CLASSIFIER, name="model", pyfunc_output="prediction")
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "dl")))
    assert (local / "model.tabship").read_bytes() == CLASSIFIER.read_bytes()
    x = rows(CLASSIFIER, 50)
    labels = mlflow.pyfunc.load_model(str(local)).predict(x)
    pd.testing.assert_series_equal(labels, expected(tabship.Pipeline.load(CLASSIFIER), x)["prediction"])
    assert mlflow.pyfunc.load_model(str(local)).metadata.get_output_schema().input_names() == ["prediction"]

    # A data file changed after saving is refused, naming both hashes.
    (local / "model.tabship").write_bytes(CHALLENGER.read_bytes())
    with pytest.raises(tabship.ArtifactError, match=f"differs from the `{sha256(CLASSIFIER)}`"):
        tabship.mlflow.load_model(str(local))


def test_bad_arguments_are_refused_clearly(tmp_path: Path) -> None:
    regressor = tabship.Pipeline.load(REGRESSOR)
    with pytest.raises(ValueError, match="a regressor has no probabilities"):
        tabship.mlflow.save_model(regressor, tmp_path / "r", pyfunc_output="prediction_and_probabilities")
    with pytest.raises(ValueError, match=r"pyfunc_output: expected one of .* got `'proba'`"):
        tabship.mlflow.save_model(CLASSIFIER, tmp_path / "c", pyfunc_output="proba")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a tabship.Pipeline or the path of a .tabship file, got `dict`"):
        tabship.mlflow.save_model({"not": "a pipeline"}, tmp_path / "d")  # type: ignore[arg-type]
    with pytest.raises(tabship.ArtifactError):
        tabship.mlflow.save_model(TESTDATA / "iris.csv", tmp_path / "e")
    assert not any((tmp_path / name).exists() for name in "rcde")


def test_without_a_signature_records_and_columns_are_scored_by_tabship(tmp_path: Path) -> None:
    pipeline = tabship.Pipeline.load(CLASSIFIER)
    tabship.mlflow.save_model(pipeline, tmp_path / "m", signature=False)
    model = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert model.metadata.signature is None
    x = read_csv(TESTDATA / "adult_sample.csv").head(3)   # int64 columns are fine here
    want = expected(pipeline, x)
    record = {k: v.item() if isinstance(v, np.generic) else v for k, v in x.iloc[0].items()}
    pd.testing.assert_frame_equal(model.predict(record), want.iloc[:1], check_exact=True)
    records = x.to_dict(orient="records")
    pd.testing.assert_frame_equal(model.predict(records), want.reset_index(drop=True), check_exact=True)
    with pytest.raises(tabship.SchemaError, match="missing column `age`"):
        model.predict(x.drop(columns=["age"]))


def test_the_signature_comes_from_the_schema_and_is_enforced(tmp_path: Path) -> None:
    pipeline = tabship.Pipeline.load(CLASSIFIER)
    tabship.mlflow.save_model(pipeline, tmp_path / "m")
    model = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    signature = model.metadata.signature
    kinds = {"double": "numeric", "string": "categorical"}
    assert [(c.name, kinds[c.type.name], c.required) for c in signature.inputs.inputs] == [
        (name, kind, True) for name, kind in pipeline.schema.items()
    ]
    assert signature.outputs.input_names() == ["prediction", "probability_<=50K", "probability_>50K"]
    assert [c.type.name for c in signature.outputs.inputs] == ["string", "double", "double"]

    x = rows(CLASSIFIER, 30)
    with pytest.raises(MlflowException, match=r"missing inputs \['age'\]"):
        model.predict(x.drop(columns=["age"]))
    # int64 is not silently taken as double (values above 2**53 would change).
    with pytest.raises(MlflowException, match="column age. Can not safely convert int64 to float64"):
        model.predict(x.fillna({"age": 0}).astype({"age": "int64"}))
    # Extra columns are dropped by MLflow; missing values reach tabship as missing.
    pd.testing.assert_frame_equal(model.predict(x.assign(extra=1.0)), expected(pipeline, x))


def test_registry_versions_and_the_champion_alias(store: str, tmp_path: Path) -> None:
    with mlflow.start_run():
        first = tabship.mlflow.log_model(CLASSIFIER, name="model", registered_model_name="income")
    with mlflow.start_run():
        second = tabship.mlflow.log_model(CHALLENGER, name="model", registered_model_name="income")
    assert (first.registered_model_version, second.registered_model_version) == (1, 2)
    client = MlflowClient()
    x = rows(CLASSIFIER, 100)
    for version, artifact in ((1, CLASSIFIER), (2, CHALLENGER), (1, CLASSIFIER)):
        client.set_registered_model_alias("income", "champion", str(version))
        champion = tabship.mlflow.load_model("models:/income@champion")
        assert champion.to_bytes() == artifact.read_bytes(), version
        got = mlflow.pyfunc.load_model("models:/income@champion").predict(x)
        pd.testing.assert_frame_equal(got, expected(tabship.Pipeline.load(artifact), x), check_exact=True)
    assert tabship.mlflow.load_model("models:/income/2").to_bytes() == CHALLENGER.read_bytes()


def test_readme_mlflow_snippet_runs(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pipeline = tabship.Pipeline.load(CLASSIFIER)
    df = read_csv(TESTDATA / "adult_sample.csv").head(200)
    names: dict[str, Any] = {"pipeline": pipeline, "df": df}
    exec(compile(readme_python_block("tabship.mlflow.log_model("), "README.md", "exec"), names)
    assert names["champion"].to_bytes() == pipeline.to_bytes()
    pd.testing.assert_frame_equal(names["scores"], expected(pipeline, names["X"]), check_exact=True)


def test_operations_model_dir_snippet_follows_the_alias(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with mlflow.start_run():
        tabship.mlflow.log_model(CLASSIFIER, name="model", registered_model_name="income")
        tabship.mlflow.log_model(CHALLENGER, name="model", registered_model_name="income")
    snippet = readme_python_block("get_model_version_by_alias", REPO / "docs" / "operations.md")
    client = MlflowClient()
    for version, artifact in (("2", CHALLENGER), ("1", CLASSIFIER)):
        client.set_registered_model_alias("income", "champion", version)
        exec(compile(snippet, "docs/operations.md", "exec"), {})
        assert (tmp_path / "models" / "income" / "CURRENT").read_text().strip() == version
        assert (tmp_path / "models" / "income" / f"{version}.tabship").read_bytes() == artifact.read_bytes()
    assert sorted(p.name for p in (tmp_path / "models" / "income").iterdir()) == ["1.tabship", "2.tabship", "CURRENT"]


# ------------------------------------------------------------------------------------------
# Slow: a real `mlflow models serve` and a real Spark session.
# ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def child_env() -> dict[str, str]:
    """Environment for the processes a test starts: this Python (its `uvicorn`, its packages)
    and the tabship imported here first on the path."""
    package = str(Path(tabship.__file__).resolve().parents[1])
    return {
        "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")]),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "PYSPARK_PYTHON": sys.executable,
    }


@pytest.fixture
def registered(store: str) -> str:
    """`income` version 1 (the forest) logged, registered and aliased `@champion`."""
    with mlflow.start_run():
        tabship.mlflow.log_model(CLASSIFIER, name="model", registered_model_name="income")
    MlflowClient().set_registered_model_alias("income", "champion", "1")
    return "models:/income@champion"


@pytest.fixture
def server(registered: str, tmp_path: Path) -> Iterator[str]:
    """`mlflow models serve` of the champion on a free loopback port (its own process group,
    this worktree's tabship first on PYTHONPATH), once /ping answers; stopped afterwards."""
    port = free_port()
    env = dict(os.environ, **child_env())
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", registered, "--env-manager", "local"]
    process = subprocess.Popen(
        [*command, "-w", "1", "-p", str(port), "-h", "127.0.0.1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "no /ping answer in 120 s:\n" + (tmp_path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(url + "/ping", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                threading.Event().wait(0.2)  # not listening yet
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_mlflow_models_serve_scores_as_in_process(server: str) -> None:
    pipeline = tabship.Pipeline.load(CLASSIFIER)
    # As a client sends it: integers stay integers in JSON (the server reads them as the
    # signature's doubles), missing values are null.
    x = read_csv(TESTDATA / "adult_sample.csv").sample(n=300, random_state=2)[list(pipeline.schema)]
    x.iloc[::9, x.columns.get_loc("workclass")] = None
    body = json.dumps({"dataframe_split": json.loads(x.to_json(orient="split", index=False))}).encode()
    request = urllib.request.Request(
        server + "/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())["predictions"]
    assert len(answer) == len(x)
    want = expected(pipeline, x.astype({c: "float64" for c, k in pipeline.schema.items() if k == "numeric"}))
    assert isinstance(want, pd.DataFrame)
    # JSON floats round-trip exactly (shortest repr), so the comparison is exact.
    assert pd.DataFrame(answer).equals(want.reset_index(drop=True))

    missing = json.dumps({"dataframe_split": json.loads(x.drop(columns=["age"]).to_json(orient="split", index=False))})
    request = urllib.request.Request(
        server + "/invocations", data=missing.encode(), headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 400
    assert "missing inputs ['age']" in json.loads(refused.value.read())["message"]


@pytest.mark.slow
# pyspark 4.3 warns that it does not fully support pandas 3 (the pinned pandas) on every
# pandas conversion; this test checks the conversions it uses give exact results.
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_spark_udf_scores_as_in_process(registered: str, spark: Any) -> None:
    functions = pytest.importorskip("pyspark.sql.functions")
    pipeline = tabship.Pipeline.load(CLASSIFIER)
    x = rows(CLASSIFIER, 2000).reset_index(drop=True)
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    frame = spark.createDataFrame(x.assign(row=np.arange(len(x))))
    udf = mlflow.pyfunc.spark_udf(spark, registered, env_manager="local")
    columns = [functions.col(c) for c in pipeline.schema]
    scored = frame.select("row", udf(functions.struct(*columns)).alias("out")).select("row", "out.*")
    # collect(), not toPandas(): pyspark 4.3's toPandas passes pandas 3 a deprecated keyword.
    got = pd.DataFrame([r.asDict() for r in scored.collect()]).sort_values("row")
    got = got.drop(columns="row").reset_index(drop=True)
    want = expected(pipeline, x)
    assert isinstance(want, pd.DataFrame)
    assert list(got.columns) == list(want.columns)
    np.testing.assert_array_equal(got["prediction"].to_numpy(dtype=object), want["prediction"].to_numpy(dtype=object))
    for column in want.columns[1:]:
        assert got[column].to_numpy().tobytes() == want[column].to_numpy().tobytes(), column


def test_import_tabship_does_not_import_mlflow() -> None:
    code = "import sys, tabship; assert 'mlflow' not in sys.modules, 'mlflow was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, **child_env()))


# MLflow 3.17 compares a DataFrame example's columns with a range, which pandas 3 deprecates.
@pytest.mark.filterwarnings("ignore:Operation with range is deprecated:DeprecationWarning")
def test_an_input_example_is_stored_and_checked_against_the_model(
    store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    x = rows(CLASSIFIER, 5)
    with mlflow.start_run(), caplog.at_level("WARNING", logger="mlflow"):
        info = tabship.mlflow.log_model(CLASSIFIER, name="model", input_example=x)
    # MLflow scores the example through the pyfunc model when logging; a failure is only logged.
    assert "Failed to validate serving input example" not in caplog.text
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "dl")))
    example = json.loads((local / "serving_input_example.json").read_text())
    assert example["dataframe_split"]["columns"] == list(x.columns)
    model = mlflow.pyfunc.load_model(info.model_uri)
    assert model.metadata.signature == tabship.mlflow.model_signature(tabship.Pipeline.load(CLASSIFIER))

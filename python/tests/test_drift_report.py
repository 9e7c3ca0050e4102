"""`Pipeline.drift` and `Pipeline.drift_monitor` on the golden adult artifact with a profile:
verdicts, equality with `tabship drift --json`, monitors fed in chunks, degenerate inputs."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tabship
from conftest import GOLDEN, PROFILED, TESTDATA, read_csv, run_cli
from tabship.drift import ColumnDrift, DriftReport

@pytest.fixture(scope="module")
def pipeline(profiled: tabship.Pipeline) -> tabship.Pipeline:
    return profiled


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return read_csv(TESTDATA / "adult_sample.csv")


@pytest.fixture(scope="module")
def inputs() -> pd.DataFrame:
    return read_csv(GOLDEN / "adult_inputs.csv")


def assert_close(a: Any, b: Any, path: str = "") -> None:
    """Nested dicts/lists equal, floats to 1e-9 (sums added in another order)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path


def all_finite(report: DriftReport) -> bool:
    def walk(x: Any) -> bool:
        if isinstance(x, float):
            return math.isfinite(x)
        if isinstance(x, dict):
            return all(walk(v) for v in x.values())
        if isinstance(x, list):
            return all(walk(v) for v in x)
        return True

    return walk(report.to_dict())


def test_report_shape_and_verdicts(pipeline: tabship.Pipeline, adult: pd.DataFrame) -> None:
    assert pipeline.has_drift_profile
    profile = pipeline.drift_profile
    assert profile is not None
    assert [c["name"] for c in profile["columns"]] == list(pipeline.schema)
    live = adult.sample(n=3000, random_state=1)
    report = pipeline.drift(live)
    assert isinstance(report, DriftReport)
    assert report.rows == 3000
    assert [c.name for c in report.columns] == list(pipeline.schema)
    assert all(isinstance(c, ColumnDrift) for c in report.columns)
    age = report.column("age")
    assert (age.kind, age.statistic) == ("numeric", "wasserstein")  # > 1000 values: a distance
    assert report.column("workclass").statistic == "jensen_shannon"
    assert age.ks is not None and age.unknown_rate is None
    assert report.column("workclass").ks is None
    assert report.prediction is not None and report.prediction.kind == "categorical"
    # A resample of the training data does not drift.
    assert not report.drifted and report.drifted_names == []
    assert all_finite(report)
    assert "no dataset drift" in repr(report)
    with pytest.raises(KeyError):
        report.column("nope")


def test_shifted_age_flags_age_only(pipeline: tabship.Pipeline, adult: pd.DataFrame) -> None:
    live = adult.sample(n=2000, random_state=2).copy()
    base = pipeline.drift(live)
    live["age"] = live["age"] + 0.5 * adult["age"].std()
    shifted = pipeline.drift(live)
    assert shifted.drifted_names == ["age"]
    assert base.drifted_names == []
    age = shifted.column("age")
    assert age.drifted and age.reasons == ["statistic"]
    assert age.mean_shift == pytest.approx(0.5, abs=0.1)
    # The other columns' statistics are untouched.
    for a, b in zip(base.columns, shifted.columns):
        if a.name != "age":
            assert a == b
    # Small samples go through the KS test, which flags the shift too.
    small = pipeline.drift(live.iloc[:500])
    assert small.column("age").statistic == "ks"
    assert "age" in small.drifted_names


def test_golden_inputs_with_shifted_age(pipeline: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    base = pipeline.drift(inputs)
    live = inputs.copy()
    live["age"] = live["age"] + 15
    shifted = pipeline.drift(live)
    assert set(shifted.drifted_names) - set(base.drifted_names) == {"age"}
    assert not base.column("age").drifted
    assert shifted.column("age").ks_p_value is not None
    assert shifted.column("age").value < 0.05


def test_changed_workclass_mix_is_flagged(pipeline: tabship.Pipeline, adult: pd.DataFrame) -> None:
    live = adult.sample(n=2000, random_state=3).copy()
    live.loc[live.index[:600], "workclass"] = "Self-emp-inc"
    report = pipeline.drift(live)
    assert report.drifted_names == ["workclass"]


@pytest.mark.slow  # builds and runs the CLI
def test_to_dict_equals_the_cli_json(
    cli: Path, pipeline: tabship.Pipeline, adult: pd.DataFrame, tmp_path: Path
) -> None:
    live = adult.sample(n=1500, random_state=4).copy()
    live["age"] = live["age"] + 5
    live.loc[live.index[:40], "workclass"] = "Space-agency"  # unknown category
    live.loc[live.index[40:200], "hours_per_week"] = np.nan  # missing rate rises
    path = tmp_path / "live.csv"
    live.to_csv(path, index=False)
    want = json.loads(run_cli(cli, "drift", PROFILED, path, "--json"))
    report = pipeline.drift(read_csv(path))
    assert report.to_dict() == want
    assert DriftReport.from_dict(want) == report
    assert json.loads(report.to_json()) == want
    workclass = report.column("workclass")
    assert workclass.unknown_rate is not None
    assert round(workclass.unknown_rate * workclass.live_count) >= 40
    assert "missing_rate" in report.column("hours_per_week").reasons
    # Options: the CLI's --options file and keywords give the same report.
    options = {"share": 0.2, "wasserstein": 0.05, "numeric_statistic": "psi", "column_statistics": {"workclass": "hellinger"}}
    options_path = tmp_path / "options.json"
    options_path.write_text(json.dumps(options))
    want = json.loads(run_cli(cli, "drift", PROFILED, path, "--json", "--options", options_path))
    report = pipeline.drift(read_csv(path), **options)
    assert report.to_dict() == want
    assert report.column("age").statistic == "psi"
    assert report.column("workclass").statistic == "hellinger"
    assert report.share_threshold == 0.2


def test_to_frame(pipeline: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    report = pipeline.drift(inputs)
    frame = report.to_frame()
    assert list(frame["name"]) == list(pipeline.schema)
    for column in ["name", "kind", "statistic", "value", "threshold", "drifted", "psi", "ks", "unknown_rate"]:
        assert column in frame.columns
    assert frame["drifted"].tolist() == [c.drifted for c in report.columns]
    assert frame["value"].tolist() == [c.value for c in report.columns]
    with_prediction = report.to_frame(prediction=True)
    assert len(with_prediction) == len(frame) + 1
    assert with_prediction["name"].iloc[-1] == "prediction"


def test_every_input_form_gives_the_same_report(pipeline: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    import pyarrow as pa

    want = pipeline.drift(inputs).to_dict()
    assert pipeline.drift(inputs.to_dict("records")).to_dict() == want
    assert pipeline.drift({k: inputs[k].tolist() for k in inputs.columns}).to_dict() == want
    assert pipeline.drift(pa.Table.from_pandas(inputs)).to_dict() == want
    # One record is a batch of one row.
    one = pipeline.drift(inputs.iloc[0].to_dict())
    assert one.rows == 1 and one == pipeline.drift(inputs.iloc[:1])


def test_report_pickles(pipeline: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    report = pipeline.drift(inputs)
    assert pickle.loads(pickle.dumps(report)) == report


def test_bad_options_and_inputs(pipeline: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    with pytest.raises(tabship.OptionError, match="unknown field `shares`"):
        pipeline.drift(inputs, shares=0.3)
    with pytest.raises(tabship.OptionError, match="share"):
        pipeline.drift(inputs, share=1.5)
    with pytest.raises(tabship.OptionError, match="unknown variant `kolmogorov`"):
        pipeline.drift(inputs, numeric_statistic="kolmogorov")
    with pytest.raises(tabship.OptionError, match="categorical_statistic"):
        pipeline.drift(inputs, categorical_statistic="ks")
    with pytest.raises(tabship.OptionError):
        pipeline.drift(inputs, share=object())
    # numpy scalars are numbers
    assert pipeline.drift(inputs, share=np.float64(0.25)).share_threshold == 0.25
    with pytest.raises(tabship.SchemaError, match="age"):
        pipeline.drift(inputs.drop(columns=["age"]))
    bad = inputs.copy()
    bad["age"] = bad["age"].astype(object)
    bad.loc[3, "age"] = "forty"
    with pytest.raises(tabship.SchemaError, match="forty"):
        pipeline.drift(bad)


def test_no_profile_is_a_clear_error(inputs: pd.DataFrame) -> None:
    old = tabship.Pipeline.load(GOLDEN / "adult_logistic.tabship")
    assert not old.has_drift_profile
    assert old.drift_profile is None
    with pytest.raises(tabship.NoDriftProfileError, match="no drift profile"):
        old.drift(inputs)
    with pytest.raises(tabship.NoDriftProfileError):
        old.drift_monitor(100)
    assert issubclass(tabship.NoDriftProfileError, tabship.TabshipError)


def test_degenerate_inputs(pipeline: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    empty = pipeline.drift(inputs.iloc[:0])
    assert (empty.rows, empty.drifted, empty.share_drifted) == (0, False, 0.0)
    assert all(c.live_count == 0 and not c.drifted for c in empty.columns)
    assert all_finite(empty)

    missing = inputs.copy()
    missing["age"] = np.nan
    report = pipeline.drift(missing)
    age = report.column("age")
    assert age.live_count == 0 and age.missing_rate == 1.0
    assert age.drifted and age.reasons == ["missing_rate"]
    assert all_finite(report)

    constant = inputs.copy()
    constant["age"] = 40.0
    constant["workclass"] = "Private"
    report = pipeline.drift(constant)
    assert all_finite(report)
    assert report.column("age").std_ratio == pytest.approx(0.0, abs=1e-6)
    assert report.column("age").drifted  # a point mass is not the age distribution


def test_cumulative_monitor_in_chunks_equals_one_report(
    pipeline: tabship.Pipeline, adult: pd.DataFrame
) -> None:
    live = adult.iloc[:1200]
    monitor = pipeline.drift_monitor()
    assert (monitor.kind, monitor.window, monitor.blocks) == ("cumulative", None, None)
    predicted = [monitor.predict(live.iloc[i : i + 97]) for i in range(0, len(live), 97)]
    assert monitor.rows == monitor.total_rows == 1200
    np.testing.assert_array_equal(np.concatenate(predicted), pipeline.predict(live))
    assert monitor.report() == pipeline.drift(live)
    # Options apply at report time.
    assert monitor.report(share=0.0).share_threshold == 0.0
    # Fed with given predictions instead: the same.
    other = pipeline.drift_monitor()
    for i in range(0, len(live), 300):
        chunk = live.iloc[i : i + 300]
        other.observe(chunk, pipeline.predict(chunk))
    assert other.report() == monitor.report()
    # Without predictions the prediction column has no live values.
    bare = pipeline.drift_monitor()
    bare.observe(live)
    report = bare.report()
    assert report.prediction is not None and report.prediction.live_count == 0
    assert report.columns == monitor.report().columns


def test_sliding_and_tumbling_windows(pipeline: tabship.Pipeline, adult: pd.DataFrame) -> None:
    live = adult.iloc[:40]
    sliding = pipeline.drift_monitor(16, blocks=4)
    assert (sliding.kind, sliding.window, sliding.blocks) == ("sliding", 16, 4)
    for i in range(0, 40, 5):
        sliding.predict(live.iloc[i : i + 5])
    assert (sliding.rows, sliding.total_rows) == (16, 40)
    assert_close(sliding.report().to_dict(), pipeline.drift(live.iloc[24:40]).to_dict())
    assert "sliding window of 16 rows" in repr(sliding)

    tumbling = pipeline.drift_monitor(10, kind="tumbling")
    assert tumbling.last_complete_report() is None
    tumbling.predict(live.iloc[:25])
    assert tumbling.rows == 5
    last = tumbling.last_complete_report()
    assert last is not None and last == pipeline.drift(live.iloc[10:20])
    assert tumbling.report() == pipeline.drift(live.iloc[20:25])
    tumbling.reset()
    assert (tumbling.rows, tumbling.total_rows) == (0, 0)
    assert tumbling.last_complete_report() is None


def test_monitors_merge_across_shards(pipeline: tabship.Pipeline, adult: pd.DataFrame) -> None:
    live = adult.iloc[:2000]
    a, b = pipeline.drift_monitor(), pipeline.drift_monitor()
    a.predict(live.iloc[::2])
    b.predict(live.iloc[1::2])
    a.merge(b)
    assert a.total_rows == 2000
    assert_close(a.report().to_dict(), pipeline.drift(live).to_dict())
    with pytest.raises(tabship.SchemaError, match="itself"):
        a.merge(a)
    with pytest.raises(tabship.SchemaError, match="window"):
        a.merge(pipeline.drift_monitor(100))
    other = tabship.Pipeline.load(GOLDEN / "diamonds_forest_profile.tabship")
    with pytest.raises(tabship.SchemaError, match="profile"):
        a.merge(other.drift_monitor())


def test_monitor_errors_add_nothing(pipeline: tabship.Pipeline, inputs: pd.DataFrame) -> None:
    monitor = pipeline.drift_monitor(100)
    monitor.observe(inputs)
    with pytest.raises(tabship.SchemaError, match="one per row"):
        monitor.observe(inputs, pipeline.predict(inputs)[:5])
    with pytest.raises(tabship.SchemaError, match="`maybe` is not a class"):
        monitor.observe(inputs, ["maybe"] * len(inputs))
    with pytest.raises(tabship.SchemaError, match="age"):
        monitor.observe(inputs.drop(columns=["age"]))
    assert monitor.total_rows == len(inputs)
    for kwargs, match in [
        ({"window": None, "kind": "sliding"}, "needs a window"),
        ({"window": 10, "kind": "cumulative"}, "keeps every row"),
        ({"window": 10, "kind": "hopping"}, "hopping"),
        ({"window": 10, "kind": "tumbling", "blocks": 2}, "blocks"),
        ({"window": 4, "blocks": 8}, "blocks"),
        ({"window": 0}, "rows `0`"),
    ]:
        with pytest.raises(tabship.OptionError, match=match):
            pipeline.drift_monitor(**kwargs)  # type: ignore[arg-type]


def test_regression_monitor(inputs: pd.DataFrame) -> None:
    pipeline = tabship.Pipeline.load(GOLDEN / "diamonds_forest_profile.tabship")
    diamonds = read_csv(GOLDEN / "diamonds_inputs.csv")
    monitor = pipeline.drift_monitor()
    monitor.observe(diamonds, pipeline.predict(diamonds))
    report = monitor.report()
    assert report == pipeline.drift(diamonds)
    assert report.prediction is not None and report.prediction.kind == "numeric"


def test_threads_feed_one_monitor(pipeline: tabship.Pipeline, adult: pd.DataFrame) -> None:
    from concurrent.futures import ThreadPoolExecutor

    live = adult.iloc[:4000]
    chunks = [live.iloc[i : i + 250] for i in range(0, len(live), 250)]
    monitor = pipeline.drift_monitor()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(monitor.predict, chunks))
    assert monitor.total_rows == 4000
    assert_close(monitor.report().to_dict(), pipeline.drift(live).to_dict())


def test_monitor_with_integer_class_labels() -> None:
    iris = read_csv(TESTDATA / "iris.csv")
    iris["species"] = iris["species"].astype("category").cat.codes.astype("int64") + 1
    pipeline = tabship.train(iris, target="species", model="decision-tree")
    assert pipeline.classes == [1, 2, 3] and pipeline.has_drift_profile
    monitor = pipeline.drift_monitor()
    predicted = pipeline.predict(iris)
    monitor.observe(iris, predicted)
    assert monitor.report() == pipeline.drift(iris)
    with pytest.raises(tabship.SchemaError, match="row 3: `7` is not a class"):
        monitor.observe(iris.iloc[:4], [1, 2, 7, 7])
    with pytest.raises(tabship.SchemaError, match="row 2: `x` is not a class"):
        monitor.observe(iris.iloc[:2], [1, "x"])


def test_the_drift_policy_decides_the_dataset_verdict(pipeline: tabship.Pipeline, adult: pd.DataFrame) -> None:
    """Issue 9, bug 4: a third of never-seen `workclass` values is one drifted column of 13,
    under the share threshold, yet the default policy fails on the unknown rate; the policy is
    a keyword option, and the raw and adjusted p-values are both in the report."""
    live = adult.sample(n=600, random_state=5).copy()
    live.loc[live.index[::3], "workclass"] = "Gig-economy"
    report = pipeline.drift(live)
    assert report.drifted and report.reasons == ["unknown_rate:workclass"]
    assert report.share_drifted < 0.5
    assert "DATASET DRIFT (unknown_rate:workclass)" in repr(report)
    assert report.to_dict()["reasons"] == ["unknown_rate:workclass"]
    assert not pipeline.drift(live, policy={"unknown_rate": None}).drifted
    named = pipeline.drift(live, policy={"columns": ["workclass"], "unknown_rate": None})
    assert named.reasons == ["column:workclass"]
    workclass = report.column("workclass")
    assert workclass.statistic == "chi_square" and workclass.adjusted_p_value is not None
    assert workclass.adjusted_p_value >= workclass.value
    with pytest.raises(tabship.OptionError, match="`agee`"):
        pipeline.drift(live, policy={"columns": ["agee"]})
    with pytest.raises(tabship.OptionError, match="any_colum"):
        pipeline.drift(live, policy={"any_colum": True})


def test_a_zero_one_column_profiled_by_its_values() -> None:
    """Issue 9, bug 2 on plain arrays: a 16%-ones flag set to all ones is flagged."""
    rng = np.random.default_rng(8)
    reference = (rng.uniform(size=5000) < 0.16).astype(float)
    profile = tabship.drift.profile(reference, "flag")
    values = profile.to_dict()["distribution"]["values"]
    assert values["values"] == [0.0, 1.0] and sum(values["counts"]) == 5000
    result = profile.compare(np.ones(500))
    assert result.drifted and result.statistic == "chi_square"
    assert result.histogram.labels == ["0", "1", "<unseen>"]
    assert result.mean_shift == pytest.approx((1 - reference.mean()) / reference.std(), rel=1e-9)
    assert not profile.compare(reference[:500]).drifted
    binned = tabship.drift.ColumnProfile.numeric(reference, "flag", exact_values=0)
    assert "values" not in binned.to_dict()["distribution"]
    assert not binned.compare(np.ones(500)).drifted  # what every profile did before

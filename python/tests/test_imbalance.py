"""`tabship.train(class_weight=, threshold=, positive_class=, target_transform=)`: class weights
as scikit-learn weighs them, a stored threshold applied to every label, a log1p target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import tabship


def imbalanced(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    score = x @ np.array([1.0, -0.5, 0.8, 0.0]) + rng.normal(scale=0.7, size=n)
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["y"] = np.where(score > 2.2, "yes", "no")
    return frame


@pytest.mark.parametrize(
    "class_weight", ["balanced", {"yes": 5.0, "no": 1.0}, {"yes": 0.5}]
)
def test_class_weights_match_scikit_learn(class_weight: str | dict[str, float]) -> None:
    df = imbalanced()
    assert 0.02 < (df["y"] == "yes").mean() < 0.1
    x = df[["a", "b", "c", "d"]].to_numpy()
    pipeline = tabship.train(
        df, target="y", class_weight=class_weight, scale=False, test_fraction=0.0, tol=1e-10,
    )
    reference = LogisticRegression(
        C=1.0, class_weight=class_weight, tol=1e-10, max_iter=10_000
    ).fit(x, df["y"])
    assert list(reference.classes_) == pipeline.classes
    np.testing.assert_allclose(
        pipeline.predict_proba(df), reference.predict_proba(x), rtol=0, atol=1e-6
    )
    assert list(pipeline.predict(df)) == list(reference.predict(x))
    resolved = pipeline.metadata["hyperparameters"]["class_weights"]
    weights = dict(item.split("=") for item in resolved.split(","))
    counts = df["y"].value_counts()
    for label in ("no", "yes"):
        want = (
            len(df) / (2 * counts[label]) if class_weight == "balanced"
            else class_weight.get(label, 1.0)  # type: ignore[union-attr]
        )
        assert float(weights[label]) == pytest.approx(want, rel=1e-12)


def test_a_threshold_is_stored_and_applied_by_predict() -> None:
    df = imbalanced()
    plain = tabship.train(df, target="y")
    tuned = tabship.train(df, target="y", threshold="f1")
    assert plain.decision_threshold is None
    stored = tuned.decision_threshold
    assert stored is not None and stored[0] == "yes"
    threshold = stored[1]
    proba = tuned.predict_proba(df)
    np.testing.assert_array_equal(proba, plain.predict_proba(df))
    expected = np.where(proba[:, 1] >= threshold, "yes", "no")
    assert list(tuned.predict(df)) == list(expected)
    record = df.iloc[int(np.argmax((proba[:, 1] >= threshold) & (proba[:, 1] < 0.5)))]
    if threshold < 0.5:
        assert tuned.predict(record) == "yes" and plain.predict(record) == "no"
    assert tuned.format_version == "1.3"
    fixed = tabship.train(df, target="y", threshold=0.9, positive_class="no")
    assert fixed.decision_threshold == ("no", 0.9)
    with pytest.raises(tabship.OptionError, match="threshold"):
        tabship.train(df, target="y", threshold="precision=2")


def test_class_weights_are_refused_by_forests() -> None:
    with pytest.raises(tabship.OptionError, match="`random-forest` cannot weight classes"):
        tabship.train(imbalanced(), target="y", model="random_forest", class_weight="balanced")


def test_a_log1p_target() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=500)
    df = pd.DataFrame({"x": x, "y": np.expm1(2.0 + 0.5 * x)})
    pipeline = tabship.train(df, target="y", model="linear", target_transform="log1p")
    assert pipeline.target_transform == "log1p"
    np.testing.assert_allclose(pipeline.predict(df), df["y"], rtol=1e-9)
    df.loc[7, "y"] = -1.5
    with pytest.raises(tabship.TabshipError, match="row 8 has `-1.5`"):
        tabship.train(df, target="y", target_transform="log1p")

"""Concept-drift detectors and windowed quality trackers of `tabship.drift`."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error

import tabship
from tabship.drift import ADWIN, DDM, PageHinkley, WindowedAccuracy, WindowedF1, WindowedMae

CHANGE = 3000


def abrupt_stream(seed: int) -> np.ndarray:
    """0/1 errors: rate 0.1, then 0.5 from position CHANGE on."""
    rng = np.random.default_rng(seed)
    return np.r_[rng.random(CHANGE) < 0.1, rng.random(1500) < 0.5].astype(float)


def stationary_stream(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(5000) < 0.2).astype(float)


DETECTORS = [DDM, PageHinkley, ADWIN]


# (detector, largest delay after the change, false alarms allowed over all seeds). DDM is known
# to raise early false alarms (its minimum is noisy just after the 30-value warm-up) and to react
# slower: its bounds are looser, as in the Rust crate's own tests.
BOUNDS = [(DDM, 700, 12), (PageHinkley, 300, 0), (ADWIN, 200, 0)]


@pytest.mark.parametrize(("make", "max_delay", "max_false"), BOUNDS, ids=lambda x: getattr(x, "__name__", ""))
def test_abrupt_change_is_found_within_a_bounded_delay(make: type, max_delay: int, max_false: int) -> None:
    false_alarms, delays = 0, []
    for seed in range(10):
        detector = make()
        drifts = detector.update_many(abrupt_stream(seed))
        assert detector.drifts == len(drifts)
        false_alarms += sum(1 for i in drifts if i < CHANGE)
        after = [i - CHANGE for i in drifts if i >= CHANGE]
        assert after, f"seed {seed}: no drift found after the change"
        delays.append(after[0])
    assert false_alarms <= max_false
    assert max(delays) <= max_delay, delays


# Alarms allowed over 10 stationary streams of 5,000 values (50,000 values). Measured over 50
# streams (250,000 values): DDM 23 alarms, Page-Hinkley 3, ADWIN 0.
@pytest.mark.parametrize(("make", "max_alarms"), [(DDM, 8), (PageHinkley, 1), (ADWIN, 0)], ids=lambda x: getattr(x, "__name__", ""))
def test_stationary_stream_stays_quiet(make: type, max_alarms: int) -> None:
    alarms = 0
    for seed in range(100, 110):
        detector = make()
        alarms += len(detector.update_many(stationary_stream(seed)))
    assert alarms <= max_alarms


@pytest.mark.parametrize("make", DETECTORS, ids=lambda d: d.__name__)
def test_update_one_by_one_equals_update_many(make: type) -> None:
    stream = abrupt_stream(7)
    one, many = make(), make()
    flagged = [i for i, x in enumerate(stream) if one.update(float(x))]
    assert flagged == many.update_many(stream)
    assert one.drifts == many.drifts and one.state == many.state


def test_detector_state_and_reset() -> None:
    ddm = DDM()
    states = set()
    for x in abrupt_stream(1):
        ddm.update(float(x))
        states.add(ddm.state)
        if ddm.warning_detected:
            assert not ddm.drift_detected
    assert states == {"stable", "warning", "drift"}
    assert 0.0 <= ddm.error_rate <= 1.0
    adwin = ADWIN()
    adwin.update_many(abrupt_stream(1))
    # After the change ADWIN has dropped the old part of its window.
    assert adwin.width < 1500 + 100 and adwin.mean == pytest.approx(0.5, abs=0.1)
    drifts = adwin.drifts
    adwin.reset()
    assert (adwin.width, adwin.mean, adwin.drifts, adwin.state) == (0, 0.0, drifts, "stable")
    # Non-finite values are ignored.
    ph = PageHinkley()
    assert ph.update_many([np.nan, np.inf]) == [] and ph.state == "stable"
    assert "DDM(warm_start=30" in repr(DDM()) and "ADWIN(delta=0.002)" in repr(ADWIN())
    assert "PageHinkley(min_instances=30" in repr(ph)


def test_detector_options_are_checked() -> None:
    with pytest.raises(tabship.OptionError, match="drift"):
        DDM(warning=3.0, drift=2.0)
    with pytest.raises(tabship.OptionError, match="alpha"):
        PageHinkley(alpha=1.5)
    with pytest.raises(tabship.OptionError, match="delta"):
        ADWIN(delta=0.0)
    # A more sensitive Page-Hinkley finds the change sooner.
    stream = abrupt_stream(2)
    assert PageHinkley(threshold=10).update_many(stream)[0] <= PageHinkley().update_many(stream)[0]


def test_trackers_equal_sklearn_on_the_last_window() -> None:
    rng = np.random.default_rng(4)
    y_true = rng.choice(["a", "b"], size=700)
    y_pred = np.where(rng.random(700) < 0.8, y_true, np.where(y_true == "a", "b", "a"))
    window = 250
    accuracy = WindowedAccuracy(window)
    assert accuracy.value is None and len(accuracy) == 0
    accuracy.update_many(y_pred[:400], y_true[:400])
    for p, t in zip(y_pred[400:], y_true[400:]):
        accuracy.update(bool(p == t))
    assert len(accuracy) == window
    assert accuracy.value == pytest.approx(accuracy_score(y_true[-window:], y_pred[-window:]))
    f1 = WindowedF1(window)
    f1.update_many(y_pred == "a", y_true == "a")
    assert f1.value == pytest.approx(f1_score(y_true[-window:], y_pred[-window:], pos_label="a"))
    values = rng.normal(size=700)
    predicted = values + rng.normal(scale=0.3, size=700)
    mae = WindowedMae(window)
    mae.update_many(predicted[:-1], values[:-1])
    mae.update(float(predicted[-1]), float(values[-1]))
    assert mae.value == pytest.approx(mean_absolute_error(values[-window:], predicted[-window:]))
    assert mae.window == window and "WindowedMae(window=250)" in repr(mae)
    with pytest.raises(tabship.OptionError, match="window"):
        WindowedAccuracy(0)
    with pytest.raises(tabship.SchemaError, match="as many"):
        mae.update_many([1.0, 2.0], [1.0])
    with pytest.raises(tabship.SchemaError, match="as many"):
        accuracy.update_many(["a"], ["a", "b"])

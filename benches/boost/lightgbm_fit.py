"""LightGBM on the rows `tabship train --write-split` chose: the same training and holdout rows,
one-hot features (pandas.get_dummies, missing numbers left NaN), the same rounds, leaves, learning
rate, bins and min leaf size. Prints the fit time and the holdout log loss.

Run: /work/main/.venv/bin/python benches/boost/lightgbm_fit.py DATA.csv SPLIT.csv [target]
"""

import sys
import time

import lightgbm
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss


def main() -> None:
    data, split = sys.argv[1], sys.argv[2]
    target = sys.argv[3] if len(sys.argv) > 3 else "income"
    frame = pd.read_csv(data, skipinitialspace=True)
    sets = pd.read_csv(split)["set"].to_numpy()
    labels = frame.pop(target).astype(str)
    classes = sorted(labels.unique())
    y = (labels == classes[1]).to_numpy().astype(int)
    x = pd.get_dummies(frame, dtype=np.float64)
    train, test = sets == "train", sets == "test"
    model = lightgbm.LGBMClassifier(
        n_estimators=100,
        num_leaves=31,
        learning_rate=0.1,
        max_bin=255,
        min_child_samples=20,
        reg_lambda=0.0,
        n_jobs=2,
        verbose=-1,
    )
    started = time.perf_counter()
    model.fit(x[train], y[train])
    seconds = time.perf_counter() - started
    p = model.predict_proba(x[test])[:, 1]
    accuracy = float(((p > 0.5).astype(int) == y[test]).mean())
    print(f"lightgbm fit_seconds {seconds:.3f} log_loss {log_loss(y[test], p):.6f} accuracy {accuracy:.4f} features {x.shape[1]}")


if __name__ == "__main__":
    main()

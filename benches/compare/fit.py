"""Fit benchmark: tabship's tree learners next to scikit-learn and LightGBM on the same split.

Run from the repository root, after `bash scripts/python-env.sh` and
`cargo build --release -p tabship-cli`:

    .venv/bin/python benches/compare/fit.py [--tabship PATH] [--data DIR] [--work DIR]
        [--cases adult,adult-325k,diamonds] [--three-million [--sklearn-3m] [--smartcore-3m]]
        [--family forest|boosting] [--only tabship|sklearn|lightgbm] [--skip NAME,..] [--repeats N]
        [--n-trees N] [--drift-profile] [--json OUT]

Every fit runs in its own fresh process, one after another (never two at once); each
measures the FIT TIME, the PEAK RSS and the HOLDOUT metric of one contestant:

- random forest (100 trees, max depth 10, max_features sqrt, min_samples_leaf 1):
  `tabship train --model random-forest --tree-learner hist` and `--tree-learner smartcore`,
  scikit-learn `RandomForestClassifier/Regressor(n_jobs=-1)` behind holdout.py's one-hot
  pipeline;
- gradient boosting (100 rounds, 31 leaves, learning rate 0.1, 255 bins, min_samples_leaf 20,
  L2 0): `tabship train --model gradient-boosting`, LightGBM `LGBMClassifier/Regressor`
  (n_jobs = CPU count) and scikit-learn `HistGradientBoostingClassifier/Regressor`
  (early_stopping=False), both fed the text columns as pandas `category` (their native
  categorical splits; tabship one-hot encodes them, its default).

The split is tabship's: one cheap `tabship train --write-split` (a depth-1 tree, test fraction
0.2, seed 42) per dataset, cached in the work directory; every tabship contestant writes its
split again and the script checks it is the same file. Python contestants fit on exactly the
train rows; everyone is scored on the same test rows.

What is timed:
- tabship: the wall time of the whole `tabship train` process (CSV reading, encoding, fit,
  the holdout metrics tabship computes itself, writing the artifact; the drift profile only
  with --drift-profile). The JSON also keeps tabship's own `fit_seconds`.
- Python (benches/compare/fit_worker.py): from before pandas `read_csv` to the end of `fit`
  (reading, preprocessing, fit); the interpreter start and the imports are not timed.
Peak RSS: GNU time's `%M` (/usr/bin/time, Debian package `time`: `ru_maxrss` of its child;
see run_measured for why not os.wait4 here), so for Python it includes the interpreter and the
imported libraries (the JSON keeps that baseline, "baseline_rss_mb").

Metrics, computed here with scikit-learn's functions on the same test rows from each
contestant's predicted probabilities / values (tabship's from `tabship predict --proba` on a
CSV of the test rows): accuracy (of the predicted class: tabship's `prediction` column, the most
probable class for the others) and log loss for
classification, RMSE and R² for regression.

Cases: adult (target `income`, 32,561 rows), adult-325k (adult repeated 10x), diamonds
(`price`), iris (`species`); adult-3m (adult cycled to 3,000,000 rows) with --three-million,
tabship's histogram learners and LightGBM only unless --sklearn-3m / --smartcore-3m. A case may
also be `STEM:TARGET[:ROWS]` (DATA/STEM.csv, its rows cycled or cut to ROWS). Generated CSVs
and splits are cached in --work (default /tmp/tabship-fit-bench), outside the repository.
Repeated rows make the test rows copies of train rows: the metrics of the repeated cases
measure fitting, not generalisation.

A tabship contestant whose flag the binary does not know (`tabship train --help`) is listed
as "not available" instead of failing; without --tree-learner at all (before the histogram
learner) the smartcore contestant runs without the flag (smartcore is then the only learner).

Output: the machine (CPU count, load average at start and end, library versions), then one
markdown table per case: fit s (median of --repeats fresh processes), peak RSS MB (median),
the metrics, time / reference (scikit-learn's forest for forests, LightGBM for boosting) and
peak RSS / CSV size. --json OUT keeps every run. Exits non-zero if an available contestant
fails.
"""

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss, r2_score, root_mean_squared_error

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORKER = HERE / "fit_worker.py"

# name -> (CSV stem, target, rows or None for the file as it is)
BUILTIN_CASES = {
    "adult": ("adult", "income", None),
    "adult-325k": ("adult", "income", 325_610),
    "adult-3m": ("adult", "income", 3_000_000),
    "diamonds": ("diamonds", "price", None),
    "iris": ("iris", "species", None),
}
DEFAULT_CASES = ["adult", "adult-325k", "diamonds"]
THREE_MILLION = "adult-3m"

# Same settings as fit_worker.FOREST / fit_worker.BOOSTING.
FOREST_FLAGS = ["--model", "random-forest", "--max-depth", "10", "--max-features", "sqrt",
                "--min-samples-leaf", "1"]
BOOSTING_FLAGS = ["--model", "gradient-boosting", "--learning-rate", "0.1", "--max-leaves", "31",
                  "--max-bins", "255", "--min-samples-leaf", "20", "--l2", "0"]

# (name, family, library)
CONTESTANTS = [
    ("tabship hist forest", "forest", "tabship"),
    ("tabship smartcore forest", "forest", "tabship"),
    ("scikit-learn RandomForest", "forest", "sklearn"),
    ("tabship gradient boosting", "boosting", "tabship"),
    ("LightGBM", "boosting", "lightgbm"),
    ("scikit-learn HistGradientBoosting", "boosting", "sklearn"),
]
REFERENCE = {"forest": "scikit-learn RandomForest", "boosting": "LightGBM"}
WORKER_NAME = {"scikit-learn RandomForest": "sklearn-rf",
               "scikit-learn HistGradientBoosting": "sklearn-hgb", "LightGBM": "lightgbm"}


def default_tabship():
    target = os.environ.get("CARGO_TARGET_DIR")
    base = Path(target) if target else REPO / "target"
    return (base if base.is_absolute() else REPO / base) / "release" / "tabship"


def loadavg():
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return None


GNU_TIME = Path("/usr/bin/time")


def run_measured(cmd):
    """Runs `cmd` in a fresh process under GNU time; returns (wall seconds, peak RSS MB, exit
    code, stdout, stderr). Not `os.wait4`'s ru_maxrss: Linux carries the forking process's
    high-water mark into the child through fork and exec, so a child of this Python process
    (150+ MB of pandas and scikit-learn) would never report less than that. GNU time is a 2 MB
    parent, and its `%M` is its own child's ru_maxrss."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.perf_counter()
        proc = subprocess.run([str(GNU_TIME), "-f", "%M", "-o", rss.name, *map(str, cmd)],
                              stdout=out, stderr=err, cwd=REPO, check=False)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        kib = rss.read().strip().splitlines()
        peak = int(kib[-1]) / 1024 if kib and kib[-1].isdigit() else float("nan")
        return wall, peak, proc.returncode, out.read().decode(), err.read().decode()


def parse_case(text):
    if text in BUILTIN_CASES:
        return text, *BUILTIN_CASES[text]
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        sys.exit(f"--cases: {text!r} is neither one of {sorted(BUILTIN_CASES)} nor "
                 "STEM:TARGET[:ROWS]")
    rows = int(parts[2]) if len(parts) == 3 else None
    return text, parts[0], parts[1], rows


def data_lines(path):
    """The header and the data lines of a CSV (one record a line, as the repo datasets are)."""
    with open(path, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    if lines and not lines[-1].endswith(b"\n"):
        lines[-1] += b"\n"
    return lines[0], [line for line in lines[1:] if line.strip()]


def prepare_csv(source, rows, work):
    """The case's CSV: the source itself, or its data rows cycled / cut to `rows` (cached)."""
    if rows is None:
        return source
    out = work / f"{cache_name(source, '')}.{rows}.csv"
    if not out.exists():
        header, lines = data_lines(source)
        with open(out.with_suffix(".tmp"), "wb") as f:
            f.write(header)
            for i in range(rows):
                f.write(lines[i % len(lines)])
        out.with_suffix(".tmp").rename(out)
    return out


class Tabship:
    def __init__(self, path):
        self.path = path
        proc = subprocess.run([str(path), "train", "--help"], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"{path} train --help failed: {proc.stderr}")
        self.help = proc.stdout
        version = subprocess.run([str(path), "--version"], capture_output=True, text=True)
        self.version = version.stdout.strip()

    def knows(self, text):
        return text in self.help

    def flags(self, name):
        """The contestant's flags, or (None, why not) when this binary lacks them."""
        if name == "tabship gradient boosting":
            if not (self.knows("gradient-boosting") and self.knows("--max-leaves")):
                return None, "this tabship has no --model gradient-boosting"
            return BOOSTING_FLAGS, None
        if name == "tabship hist forest":
            if not self.knows("--tree-learner"):
                return None, "this tabship has no --tree-learner hist"
            return FOREST_FLAGS + ["--tree-learner", "hist"], None
        if name == "tabship smartcore forest":
            learner = ["--tree-learner", "smartcore"] if self.knows("--tree-learner") else []
            return FOREST_FLAGS + learner, None
        raise ValueError(name)


def cache_name(csv, target):
    """A cache file stem for `csv` and `target` that changes with the file (path, size, mtime)."""
    st = csv.stat()
    key = hashlib.sha256(f"{csv}|{st.st_size}|{st.st_mtime_ns}|{target}".encode()).hexdigest()
    return f"{csv.stem}.{key[:12]}"


def write_split(tabship, csv, target, work):
    """tabship's train/test split of `csv` (cached): a depth-1 tree is enough to write it."""
    split = work / f"{cache_name(csv, target)}.split.csv"
    if not split.exists():
        cmd = [str(tabship.path), "train", str(csv), "--target", target, "--model",
               "decision-tree", "--max-depth", "1", "--seed", "42", "--test-fraction", "0.2",
               "--no-drift-profile", "--write-split", str(split.with_suffix(".tmp")),
               "-o", str(work / "split-model.tabship")]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"writing the split failed: {' '.join(cmd)}\n{proc.stderr}")
        split.with_suffix(".tmp").rename(split)
    return split


def test_csv(csv, target, split_rows, test_rows, work):
    """The test rows of `csv` as their own CSV (for `tabship predict`), cached."""
    out = work / f"{cache_name(csv, target)}.test.csv"
    if not out.exists():
        header, lines = data_lines(csv)
        if len(lines) != split_rows:
            sys.exit(f"{csv}: {len(lines)} data lines but the split has {split_rows} rows "
                     "(a quoted field with a line break?)")
        with open(out.with_suffix(".tmp"), "wb") as f:
            f.write(header)
            for row in test_rows:
                f.write(lines[row])
        out.with_suffix(".tmp").rename(out)
    return out


def read_split(path, n_rows):
    split = pd.read_csv(path)
    if list(split.columns) != ["row", "set"] or not split["set"].isin(
            ["train", "test", "dropped"]).all():
        sys.exit(f"{path}: unexpected split columns/values")
    # `tabship train --write-split` counts data rows from 1 after the header.
    if len(split) != n_rows or not split["row"].is_unique or split["row"].min() != 1 \
            or split["row"].max() != n_rows:
        sys.exit(f"{path}: the split does not list every data row once (counted from 1)")
    return split.assign(row=split["row"] - 1)


def metrics(y, predicted, classes, classification, labels=None):
    """`labels`: the contestant's own predicted classes (tabship's `prediction` column; it may
    break a tie of probabilities otherwise than argmax); else the most probable class."""
    if classification:
        proba = np.asarray(predicted, dtype=float)
        if labels is None:
            labels = np.asarray(classes)[proba.argmax(axis=1)]
        return {"accuracy": accuracy_score(y, labels),
                "log_loss": log_loss(y, proba, labels=list(classes))}
    return {"rmse": root_mean_squared_error(y, predicted), "r2": r2_score(y, predicted)}


def run_tabship(tabship, flags, case, args, tmp):
    stem = f"tabship-{os.getpid()}"
    model, split = tmp / f"{stem}.tabship", tmp / f"{stem}.split.csv"
    cmd = [str(tabship.path), "train", str(case["csv"]), "--target", case["target"], *flags,
           "--n-trees", str(args.n_trees), "--seed", "42", "--test-fraction", "0.2",
           "--write-split", str(split), "--json", "-o", str(model)]
    if not args.drift_profile:
        cmd.append("--no-drift-profile")
    wall, rss, code, out, err = run_measured(cmd)
    if code != 0:
        raise RuntimeError(f"exit {code}: {' '.join(cmd)}\n{err}")
    if split.read_bytes() != case["split"].read_bytes():
        raise RuntimeError("tabship wrote a different split than the shared one")
    report = json.loads(out)
    pred_csv = tmp / f"{stem}.pred.csv"
    cmd = [str(tabship.path), "predict", str(model), str(case["test_csv"]), "-o", str(pred_csv)]
    if case["classification"]:
        cmd.append("--proba")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stderr}")
    pred = pd.read_csv(pred_csv, keep_default_na=False, na_values=[""])
    if case["classification"]:
        cols = [c for c in pred.columns if c.startswith("probability_")]
        classes = [c.removeprefix("probability_") for c in cols]
        predicted = pred[cols].to_numpy()
        labels = pred["prediction"].astype(str).to_numpy()
    else:
        classes, labels = None, None
        predicted = pred["prediction"].to_numpy(dtype=float)
    return {"fit_seconds": wall, "peak_rss_mb": rss, "tabship_fit_seconds":
            report["fit_seconds"], "tabship_metrics": report["metrics"]}, predicted, classes, \
        labels


def run_python(name, case, args, tmp):
    spec_path, pred_path = tmp / "spec.json", tmp / "pred.npy"
    spec_path.write_text(json.dumps({
        "contestant": WORKER_NAME[name], "data": str(case["csv"]), "target": case["target"],
        "classification": case["classification"], "split": str(case["split"]),
        "n_trees": args.n_trees, "threads": os.cpu_count(), "predictions": str(pred_path)}))
    wall, rss, code, out, err = run_measured([sys.executable, str(WORKER), str(spec_path)])
    if code != 0:
        raise RuntimeError(f"exit {code}: {name}\n{err}")
    report = json.loads(out)
    predicted = np.load(pred_path)
    return {"fit_seconds": report["fit_seconds"], "peak_rss_mb": rss, "process_seconds": wall,
            "baseline_rss_mb": report["baseline_rss_mb"]}, predicted, report.get("classes")


def selected(name, family, library, case, args):
    if args.family and family != args.family:
        return False
    if args.only and library != args.only:
        return False
    if name in args.skip:
        return False
    if case["name"] == THREE_MILLION and library == "sklearn" and not args.sklearn_3m:
        return False
    if case["name"] == THREE_MILLION and name == "tabship smartcore forest" \
            and not args.smartcore_3m:
        return False
    return True


def prepare_case(spec, tabship, args):
    name, stem, target, rows = spec
    source = args.data / f"{stem}.csv"
    if not source.is_file():
        sys.exit(f"{source}: no such file (--data DIR)")
    csv = prepare_csv(source, rows, args.work)
    y_all = pd.read_csv(csv, usecols=[target], keep_default_na=False, na_values=[""])[target]
    classification = not pd.api.types.is_numeric_dtype(y_all)
    split_path = write_split(tabship, csv, target, args.work)
    split = read_split(split_path, len(y_all))
    test_rows = split.loc[split["set"] == "test", "row"].to_numpy()
    y = y_all.iloc[test_rows]
    return {"name": name, "csv": csv, "target": target, "rows": len(y_all),
            "csv_mb": csv.stat().st_size / 2**20, "classification": classification,
            "split": split_path, "train_rows": int((split["set"] == "train").sum()),
            "test_rows": len(test_rows),
            "test_csv": test_csv(csv, target, len(split), test_rows, args.work),
            "y_test": y.astype(str).to_numpy() if classification else y.to_numpy(float)}


def bench_case(case, tabship, args, tmp):
    entries = []
    for name, family, library in CONTESTANTS:
        if not selected(name, family, library, case, args):
            continue
        entry = {"contestant": name, "family": family, "library": library, "runs": []}
        if library == "tabship":
            flags, why = tabship.flags(name)
            entry["flags"] = flags
            if flags is None:
                entry["available"], entry["reason"] = False, why
        entry.setdefault("available", True)
        entries.append(entry)
    # Rounds: every contestant once per round, so load changes spread over all of them.
    for _ in range(args.repeats):
        for entry in entries:
            if not entry["available"]:
                continue
            print(f"  {case['name']}: {entry['contestant']} ...", file=sys.stderr, flush=True)
            if entry["library"] == "tabship":
                run, predicted, classes, labels = run_tabship(tabship, entry["flags"], case,
                                                              args, tmp)
            else:
                run, predicted, classes = run_python(entry["contestant"], case, args, tmp)
                labels = None  # scikit-learn's and LightGBM's predict: the argmax
            run["metrics"] = metrics(case["y_test"], predicted, classes, case["classification"],
                                     labels)
            entry["runs"].append(run)
    for entry in entries:
        if entry["runs"]:
            entry["fit_seconds"] = statistics.median(r["fit_seconds"] for r in entry["runs"])
            entry["peak_rss_mb"] = statistics.median(r["peak_rss_mb"] for r in entry["runs"])
            entry["metrics"] = entry["runs"][0]["metrics"]
            entry["rss_per_csv"] = entry["peak_rss_mb"] / case["csv_mb"]
    by_name = {e["contestant"]: e for e in entries}
    for entry in entries:
        ref = by_name.get(REFERENCE[entry["family"]])
        if entry.get("fit_seconds") is not None and ref and ref.get("fit_seconds"):
            entry["time_ratio"] = entry["fit_seconds"] / ref["fit_seconds"]
            entry["reference"] = ref["contestant"]
    return entries


def table(case, entries):
    names = ["accuracy", "log_loss"] if case["classification"] else ["rmse", "r2"]
    head = {"accuracy": "accuracy", "log_loss": "log loss", "rmse": "RMSE", "r2": "R²"}
    lines = [f"\n{case['name']}: {case['rows']:,} rows ({case['csv_mb']:.1f} MB CSV), "
             f"train {case['train_rows']:,} / test {case['test_rows']:,}\n",
             "| contestant | fit s | peak RSS MB | " + " | ".join(head[n] for n in names)
             + " | time / ref | RSS / CSV |",
             "|---|---:|---:|" + "---:|" * len(names) + "---:|---:|"]
    for e in entries:
        if not e["available"]:
            lines.append(f"| {e['contestant']} | not available ({e['reason']}) |"
                         + " |" * (len(names) + 3))
            continue
        ratio = f"{e['time_ratio']:.2f}" if "time_ratio" in e else ""
        values = " | ".join(f"{e['metrics'][n]:.4f}" if n != "rmse" else f"{e['metrics'][n]:.1f}"
                            for n in names)
        lines.append(f"| {e['contestant']} | {e['fit_seconds']:.2f} | {e['peak_rss_mb']:.0f} | "
                     f"{values} | {ratio} | {e['rss_per_csv']:.2f} |")
    lines.append("\ntime / ref: forests against scikit-learn's RandomForest, boosting against "
                 "LightGBM.")
    return "\n".join(lines)


def versions():
    import lightgbm
    import sklearn
    return {"python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "scikit-learn": sklearn.__version__,
            "lightgbm": lightgbm.__version__}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tabship", type=Path, default=default_tabship())
    ap.add_argument("--data", type=Path, default=REPO / "../shared/data")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tabship-fit-bench")
    ap.add_argument("--cases", default=",".join(DEFAULT_CASES))
    ap.add_argument("--three-million", action="store_true", help=f"add the {THREE_MILLION} case")
    ap.add_argument("--sklearn-3m", action="store_true",
                    help=f"also fit the scikit-learn contestants on {THREE_MILLION}")
    ap.add_argument("--smartcore-3m", action="store_true",
                    help=f"also fit tabship's smartcore forest on {THREE_MILLION}")
    ap.add_argument("--family", choices=["forest", "boosting"])
    ap.add_argument("--only", choices=["tabship", "sklearn", "lightgbm"])
    ap.add_argument("--skip", type=lambda t: [n.strip() for n in t.split(",")], default=[],
                    help="contestants to leave out, comma-separated (their names as printed)")
    ap.add_argument("--repeats", type=int, default=1, help="fresh fits per contestant (median)")
    ap.add_argument("--n-trees", type=int, default=100, help="forest trees / boosting rounds")
    ap.add_argument("--drift-profile", action="store_true",
                    help="let tabship train capture its drift profile (timed with the fit)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not GNU_TIME.is_file():
        sys.exit(f"{GNU_TIME} not found: install GNU time (apt-get install time)")
    if args.repeats < 1 or args.n_trees < 1:
        sys.exit("--repeats and --n-trees must be at least 1")
    args.data, args.work = args.data.resolve(), args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    tabship = Tabship(args.tabship.resolve())
    specs = [parse_case(c) for c in args.cases.split(",") if c]
    if args.three_million and THREE_MILLION not in [s[0] for s in specs]:
        specs.append(parse_case(THREE_MILLION))

    machine = {"cpus": os.cpu_count(), "load_start": loadavg(), "tabship": str(tabship.path),
               "tabship_version": tabship.version, "started_utc":
               time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **versions()}
    print(f"{machine['started_utc']}: {machine['cpus']} CPUs, load average "
          f"{' '.join(machine['load_start'] or [])}; {tabship.version} ({tabship.path}); "
          + ", ".join(f"{k} {machine[k]}" for k in ("python", "numpy", "pandas", "scikit-learn",
                                                       "lightgbm")))
    results, failed = [], []
    with tempfile.TemporaryDirectory(prefix="tabship-fit-") as tmp:
        for spec in specs:
            case = prepare_case(spec, tabship, args)
            try:
                entries = bench_case(case, tabship, args, Path(tmp))
            except RuntimeError as e:
                failed.append(f"{case['name']}: {e}")
                continue
            print(table(case, entries), flush=True)
            results.append({k: (str(v) if isinstance(v, Path) else v) for k, v in case.items()
                            if k != "y_test"} | {"contestants": entries})
    machine["load_end"] = loadavg()
    print(f"\nload average at the end: {' '.join(machine['load_end'] or [])}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "cases": results}, indent=1))
    if failed:
        sys.exit("failed:\n" + "\n".join(failed))


if __name__ == "__main__":
    main()

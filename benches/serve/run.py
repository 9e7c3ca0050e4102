"""Load test on loopback: single-row predict over HTTP, tabship serve vs FastAPI+scikit-learn vs
FastAPI+ONNX Runtime, for the adult logistic and random-forest pipelines, at 1 and 64 connections.

Run from the repository root (not part of scripts/test.sh; takes about 5 minutes):

    cargo build --release -p tabship-cli
    bash scripts/python-env.sh                 # pinned fastapi, uvicorn, scikit-learn, onnxruntime
    sudo apt-get install wrk                   # Debian's wrk 4.1
    .venv/bin/python benches/serve/run.py [--data ../shared/data] [--duration 10] [--json OUT]

Every server gets the machine's cores: tabship with its default worker threads (= cores), uvicorn
with `--workers <cores>` (one process per core, OMP/BLAS threads 1) and its fast paths
(`--http httptools --loop uvloop`, as `uvicorn[standard]` runs in production). Access logs are off everywhere
(tabship `--log-level warn`, uvicorn `--no-access-log`). wrk runs on the same machine: 1 thread for
1 connection, 2 threads for 64 connections, after a 2 s warm-up; it reports requests/s, latency
percentiles (p50, p99) and errors (socket errors + non-2xx answers). Every server answers the same
JSON record (the first row of adult.csv without its target) with the prediction and probabilities.
Forests: 100 trees, max depth 10 (tabship and scikit-learn alike).
"""

import argparse
import json
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benches" / "compare"))
import compare  # noqa: E402  (the scikit-learn pipeline and ONNX conversion of benches/compare)

TABSHIP = REPO / "target" / "release" / "tabship"
CORES = os.cpu_count() or 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, record, process, timeout=120):
    """Waits until the server predicts (200), and returns its answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            r = requests.post(url, json=record, timeout=5)
            if r.status_code == 200:
                return r.json()
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server never became ready")


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def parse_duration(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk(url, body_file, connections, duration):
    threads = 1 if connections == 1 else 2
    script = body_file.with_suffix(".lua")
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'local f = io.open("{body_file}") wrk.body = f:read("*a") f:close()\n')
    subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", "2s", "-s",
                    str(script), url], check=True, capture_output=True)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d",
                          f"{duration}s", "--latency", "-s", str(script), url],
                         check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = parse_duration(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = parse_duration(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    requests_total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors,
            "requests": requests_total}


def record_body(X, tmp):
    row = X.iloc[0].to_dict()
    record = {k: (None if (isinstance(v, float) and v != v) else
                  (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}
    path = tmp / "record.json"
    path.write_text(json.dumps(record))
    return path, record


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO / "../shared/data")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--only", default="", help="comma-separated subset: tabship,sklearn,onnx")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    if not TABSHIP.is_file():
        sys.exit(f"build the release binary first: cargo build --release -p tabship-cli")
    data = args.data / "adult.csv"
    df = compare.read_csv(data)
    X, y = df.drop(columns=["income"]), df["income"]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        body, record = record_body(X, tmp)
        for model in ("logistic", "random-forest"):
            case = next(c for c in compare.CASES if c.dataset == "adult" and c.model == model)
            artifact = tmp / f"adult-{model}.tabship"
            subprocess.run([str(TABSHIP), "train", str(data), "--target", "income", "--model",
                            model, "--name", "adult", "-o", str(artifact), "--json",
                            *case.tabship_args], check=True, capture_output=True)
            pipe = compare.sklearn_pipeline(X, case).fit(X, y)
            pkl = tmp / f"adult-{model}.pkl"
            pkl.write_bytes(pickle.dumps(pipe, protocol=5))
            onnx_path = None
            from skl2onnx import convert_sklearn
            from skl2onnx.common.data_types import FloatTensorType, StringTensorType
            cat = compare.categorical_columns(X)
            types = [(c, StringTensorType([None, 1]) if c in cat else FloatTensorType([None, 1]))
                     for c in X.columns]
            for how, candidate in compare.onnx_candidates(pipe):
                try:
                    onx = convert_sklearn(candidate, initial_types=types, options={
                        id(candidate.named_steps["model"]): {"zipmap": False}})
                except Exception:  # noqa: BLE001 - try the next equivalent candidate
                    continue
                onnx_path = tmp / f"adult-{model}.onnx"
                onnx_path.write_bytes(onx.SerializeToString())
                break
            classes = "|".join(str(c) for c in pipe.classes_)
            servers = {
                "tabship": lambda port: [str(TABSHIP), "serve", str(artifact), "--port",
                                         str(port), "--log-level", "warn"],
                "FastAPI+scikit-learn": lambda port: [
                    sys.executable, "-m", "uvicorn", "fastapi_app:app", "--port", str(port),
                    "--workers", str(CORES), "--http", "httptools", "--loop", "uvloop",
                    "--no-access-log", "--log-level", "warning"],
                "FastAPI+ONNX Runtime": lambda port: [
                    sys.executable, "-m", "uvicorn", "fastapi_app:app", "--port", str(port),
                    "--workers", str(CORES), "--http", "httptools", "--loop", "uvloop",
                    "--no-access-log", "--log-level", "warning"],
            }
            envs = {
                "tabship": {},
                "FastAPI+scikit-learn": {"MODEL_KIND": "sklearn", "MODEL_PATH": str(pkl)},
                "FastAPI+ONNX Runtime": {"MODEL_KIND": "onnx", "MODEL_PATH": str(onnx_path),
                                         "MODEL_CLASSES": classes},
            }
            keys = {"tabship": "tabship", "FastAPI+scikit-learn": "sklearn",
                    "FastAPI+ONNX Runtime": "onnx"}
            for name, command in servers.items():
                if only and keys[name] not in only:
                    continue
                if name == "FastAPI+ONNX Runtime" and onnx_path is None:
                    print(f"skipping {name}: skl2onnx could not convert the {model} pipeline")
                    continue
                port = free_port()
                env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                           MKL_NUM_THREADS="1", **envs[name])
                process = subprocess.Popen(command(port), cwd=Path(__file__).parent, env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    url = f"http://127.0.0.1:{port}"
                    prediction = wait_ready(url + "/predict", record, process)["prediction"]
                    for connections in (1, 64):
                        r = wrk(url + "/predict", body, connections, args.duration)
                        r.update(server=name, model=model, connections=connections,
                                 prediction=prediction)
                        results.append(r)
                        print(f"{model:14} {name:22} c={connections:<3} {r['rps']:>9.0f} req/s "
                              f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                              f"errors {r['errors']}", flush=True)
                finally:
                    stop(process)
    print()
    print(f"{CORES} cores, wrk on the same machine, {args.duration} s per run, single-row POST")
    print()
    print("| pipeline | server | connections | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| adult {r['model']} | {r['server']} | {r['connections']} | {r['rps']:,.0f} | "
              f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

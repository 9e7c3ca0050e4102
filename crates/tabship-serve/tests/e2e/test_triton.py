"""tritonclient (a real Open Inference Protocol client) gets the same predictions as /predict."""

import csv
from pathlib import Path

import numpy as np
import requests
import tritonclient.http as httpclient

GOLDEN = Path(__file__).resolve().parents[4] / "testdata" / "golden"


def adult_rows():
    with open(GOLDEN / "adult_inputs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r.pop("income")
    return rows


def test_triton_matches_predict(server):
    rows = adult_rows()
    meta = requests.get(server.url + "/models/adult", headers=server.auth(), timeout=10).json()
    columns = meta["schema"]["columns"]
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    assert client.is_server_live()
    assert client.is_server_ready()
    md = client.get_model_metadata("adult", headers=server.auth())
    assert [i["name"] for i in md["inputs"]] == [c["name"] for c in columns]
    inputs = []
    for c in columns:
        if c["kind"] == "numeric":
            data = np.array([[float(r[c["name"]]) if r[c["name"]] else np.nan] for r in rows],
                            dtype=np.float64)
            t = httpclient.InferInput(c["name"], list(data.shape), "FP64")
        else:
            data = np.array([[r[c["name"]]] for r in rows], dtype=np.object_)
            t = httpclient.InferInput(c["name"], list(data.shape), "BYTES")
        t.set_data_from_numpy(data, binary_data=False)
        inputs.append(t)
    outputs = [httpclient.InferRequestedOutput("label", binary_data=False),
               httpclient.InferRequestedOutput("probabilities", binary_data=False)]
    result = client.infer("adult", inputs, outputs=outputs, headers=server.auth())
    labels = [x.decode() if isinstance(x, bytes) else str(x) for x in result.as_numpy("label")]
    proba = result.as_numpy("probabilities")

    instances = []
    for r in rows:
        rec = {}
        for c in columns:
            v = r[c["name"]]
            rec[c["name"]] = (float(v) if v else None) if c["kind"] == "numeric" else v
        instances.append(rec)
    rest = requests.post(server.url + "/models/adult/predict", json={"instances": instances},
                         headers=server.auth(), timeout=10).json()
    assert labels == rest["predictions"]
    classes = list(rest["probabilities"][0].keys())
    expected = np.array([[p[c] for c in classes] for p in rest["probabilities"]])
    np.testing.assert_allclose(proba.reshape(expected.shape), expected, rtol=0, atol=1e-12)


def test_triton_errors(server):
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    t = httpclient.InferInput("sepal_length", [1], "FP64")
    t.set_data_from_numpy(np.array([5.1]), binary_data=False)
    try:
        client.infer("iris", [t], headers=server.auth())
    except Exception as e:  # tritonclient raises InferenceServerException with our message
        assert "missing inputs" in str(e)
    else:
        raise AssertionError("an incomplete request must fail")

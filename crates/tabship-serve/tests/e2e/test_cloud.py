"""The cloud contracts against the real binary, with bodies made by the vendors' own libraries.

- SageMaker: `/ping` and `/invocations` with bodies from the SageMaker Python SDK's serializers
  (`sagemaker.core.serializers.CSVSerializer` / `JSONSerializer`: sagemaker-core, SDK v3) and
  answers read back by its deserializers (`CSVDeserializer` / `JSONDeserializer`).
- Vertex AI: plain `tabship serve` under the environment Vertex sets (`AIP_HTTP_PORT`,
  `AIP_HEALTH_ROUTE`, `AIP_PREDICT_ROUTE`, `AIP_STORAGE_URI`), the request body built and the
  answer parsed by google-cloud-aiplatform's `PredictRequest` / `PredictResponse` types.
- Azure ML: `--live-route`, `--ready-route`, `--score-route`.
"""

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

# The vendors' libraries live in their own environment (their pins conflict with the main dev
# environment's): scripts/cloud-e2e.sh runs this file there; scripts/e2e.sh skips it.
WHY = "the vendor client libraries are in .venv-cloud: run scripts/cloud-e2e.sh"
pytest.importorskip("sagemaker.core.serializers", reason=WHY)
pytest.importorskip("google.cloud.aiplatform_v1", reason=WHY)

from google.cloud.aiplatform_v1.types import PredictRequest, PredictResponse  # noqa: E402
from google.protobuf import json_format, struct_pb2  # noqa: E402
from sagemaker.core.deserializers import CSVDeserializer, JSONDeserializer  # noqa: E402
from sagemaker.core.serializers import CSVSerializer, JSONSerializer  # noqa: E402

from conftest import GOLDEN, start_server, stop_server, tabship_bin

SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.7, 3.0, 5.2, 2.3]
COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def iris():
    url, process = start_server([
        str(GOLDEN / "iris_logistic.tabship"),
        "--live-route", "/azure/live", "--ready-route", "/azure/ready", "--score-route", "/score"])
    yield url
    stop_server(process)


def invoke(url, serializer, data, accept):
    return requests.post(url + "/invocations", data=serializer.serialize(data),
                         headers={"Content-Type": serializer.CONTENT_TYPE, "Accept": accept},
                         timeout=10)


def test_sagemaker_ping_is_an_empty_200(iris):
    response = requests.get(iris + "/ping", timeout=5)
    assert response.status_code == 200
    assert response.content == b""


def test_sagemaker_csv_in_csv_out(iris):
    deserializer = CSVDeserializer()
    response = invoke(iris, CSVSerializer(), [SETOSA, VIRGINICA], deserializer.ACCEPT[0])
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/csv"
    rows = deserializer.deserialize(io.BytesIO(response.content), response.headers["Content-Type"])
    assert [r[0] for r in rows] == ["setosa", "virginica"]
    for row in rows:
        assert len(row) == 4 and abs(sum(float(p) for p in row[1:]) - 1) < 1e-9


def test_sagemaker_json_in_json_out(iris):
    deserializer = JSONDeserializer()
    for data, expected in [
        (dict(zip(COLUMNS, SETOSA)), "setosa"),
        ({"instances": [dict(zip(COLUMNS, VIRGINICA))]}, ["virginica"]),
        ({"features": [SETOSA, VIRGINICA]}, ["setosa", "virginica"]),
    ]:
        response = invoke(iris, JSONSerializer(), data, deserializer.ACCEPT[0])
        assert response.status_code == 200, response.text
        answer = deserializer.deserialize(io.BytesIO(response.content),
                                          response.headers["Content-Type"])
        assert answer.get("prediction", answer.get("predictions")) == expected
        assert answer["request_id"] == response.headers["x-request-id"]


def test_sagemaker_json_in_csv_out_and_errors(iris):
    response = invoke(iris, JSONSerializer(), {"features": [SETOSA]}, "text/csv")
    assert response.text.startswith("setosa,")
    response = invoke(iris, CSVSerializer(), [SETOSA, [5.1, "x", 1.4, 0.2]], "application/json")
    assert response.status_code == 400
    field = response.json()["error"]["fields"][0]
    assert (field["field"], field["row"]) == ("sepal_width", 2)


def test_azure_routes(iris):
    assert requests.get(iris + "/azure/live", timeout=5).json() == {"status": "live"}
    assert requests.get(iris + "/azure/ready", timeout=5).json() == {"status": "ready"}
    answer = requests.post(iris + "/score", json=dict(zip(COLUMNS, SETOSA)), timeout=5).json()
    assert answer["prediction"] == "setosa"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vertex(tmp_path_factory):
    storage = tmp_path_factory.mktemp("aip-storage")
    shutil.copy(GOLDEN / "iris_logistic.tabship", storage / "iris.tabship")
    port = free_port()
    env = dict(os.environ, AIP_HTTP_PORT=str(port), AIP_HEALTH_ROUTE="/v1/health",
               AIP_PREDICT_ROUTE="/v1/endpoints/7/deployedModels/9:predict",
               AIP_STORAGE_URI=str(storage))
    process = subprocess.Popen([str(tabship_bin()), "serve", "--json-logs"], env=env,
                               stderr=subprocess.PIPE, text=True)
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/v1/health", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert process.poll() is None, "tabship serve exited under the Vertex environment"
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("the Vertex health route never answered 200")
    yield url + "/v1/endpoints/7/deployedModels/9:predict"
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)
        process.stderr.close()


def test_vertex_predict_with_the_client_library_shapes(vertex):
    # As the client library's prediction service builds it: each instance a protobuf Value. Its
    # JSON form also carries `endpoint` and `labels`, which the route ignores.
    value = lambda x: json_format.ParseDict(x, struct_pb2.Value())  # noqa: E731
    request = PredictRequest()
    request.instances.extend([value(dict(zip(COLUMNS, SETOSA))), value(VIRGINICA)])
    request.parameters = value({"confidence_threshold": 0.5})
    body = PredictRequest.to_json(request, indent=None)
    assert set(json.loads(body)) >= {"instances", "parameters"}
    response = requests.post(vertex, data=body, headers={"Content-Type": "application/json"},
                             timeout=10)
    assert response.status_code == 200, response.text
    parsed = PredictResponse.from_json(response.text)
    predictions = [dict(p) for p in parsed.predictions]
    assert [p["label"] for p in predictions] == ["setosa", "virginica"]
    assert sorted(predictions[0]["probabilities"]) == ["setosa", "versicolor", "virginica"]
    # A protobuf Struct has no key order: the class order is checked on the JSON as sent.
    raw = response.json()["predictions"][0]["probabilities"]
    assert list(raw) == ["setosa", "versicolor", "virginica"]


def test_vertex_refuses_bodies_over_1_5_mb(vertex):
    row = json.dumps(dict(zip(COLUMNS, SETOSA)))
    body = '{"instances": [' + ",".join([row] * (1_500_000 // len(row) + 10)) + "]}"
    response = requests.post(vertex, data=body, headers={"Content-Type": "application/json"},
                             timeout=10)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

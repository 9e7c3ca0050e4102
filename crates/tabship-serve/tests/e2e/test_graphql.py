"""GraphQL with a standard client (gql over requests) on the adult golden model (with its drift profile): introspection and the printed schema
of the adult golden model against a committed snapshot, predictions equal to `/predict` on the
golden adult rows, errors (unknown model, wrong type, missing field with its path, scopes,
depth limit), and predict latency over GraphQL and REST in the same run."""

import csv
import json
import os
import statistics
import time
from pathlib import Path

import pytest
import requests
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError, TransportServerError
from gql.transport.requests import RequestsHTTPTransport
from graphql import print_schema

from conftest import GOLDEN, add_key, start_server, stop_server, typed_record

SNAPSHOT = Path(__file__).parent / "adult_schema.graphql"
PREDICT = "query($v: AdultInput!) { predict(model: \"adult\", input: {adult: $v}) }"


def run(session, query, variables=None):
    """Executes `query` (gql 4: the variables belong to the request)."""
    request = gql(query)
    request.variable_values = variables
    return session.execute(request)


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("graphql")
    keys = tmp / "keys.toml"
    tokens = {
        "predict": add_key(keys, "pedro1", "predict"),
        "metrics": add_key(keys, "ops", "predict,metrics"),
        "feedback": add_key(keys, "labeller", "feedback"),
    }
    log = tmp / "predictions.jsonl"
    url, process = start_server([str(GOLDEN / "adult_logistic_profile.tabship"), "--keys", str(keys),
                                 "--log", str(log)])
    yield url, tokens, log
    stop_server(process)


def client(url, token, fetch_schema=True):
    transport = RequestsHTTPTransport(url=url + "/graphql", headers={"Authorization": f"Bearer {token}"},
                                      timeout=30, retries=0)
    return Client(transport=transport, fetch_schema_from_transport=fetch_schema)


def golden_rows(url, token, n):
    schema = requests.get(url + "/models/adult", headers={"Authorization": f"Bearer {token}"},
                          timeout=10).json()["schema"]
    with open(GOLDEN / "adult_inputs.csv", newline="") as f:
        rows = list(csv.DictReader(f))[:n]
    return [typed_record(row, schema, "income") for row in rows]


def without_id(answer):
    return {k: v for k, v in answer.items() if k != "request_id"}


def test_the_printed_schema_matches_the_snapshot(adult):
    url, tokens, _ = adult
    with client(url, tokens["predict"]) as session:
        printed = print_schema(session.client.schema) + "\n"
    if os.environ.get("TABSHIP_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(printed)
    assert printed == SNAPSHOT.read_text(), "the GraphQL schema changed: review and update the snapshot"
    assert "input AdultInput" in printed and "Self-emp-inc" in printed


def test_predictions_equal_predict_on_the_golden_rows(adult):
    url, tokens, log = adult
    auth = {"Authorization": f"Bearer {tokens['predict']}"}
    rows = golden_rows(url, tokens["predict"], 50)
    with client(url, tokens["predict"]) as session:
        for row in rows:
            got = run(session, PREDICT, {"v": row})["predict"]
            want = requests.post(url + "/models/adult/predict", json=row, headers=auth, timeout=10).json()
            assert without_id(got) == without_id(want)
            assert got["username"] == "pedro1"
        batch = "query($v: [PredictInput!]!) { predictBatch(model: \"adult\", inputs: $v) }"
        got = run(session, batch, {"v": [{"adult": r} for r in rows]})["predictBatch"]
    want = requests.post(url + "/models/adult/predict", json={"instances": rows}, headers=auth, timeout=10).json()
    assert without_id(got) == without_id(want)
    # Through the data plane: the GraphQL predictions are in the prediction log.
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(line.get("request_id") == got["request_id"] for line in logged)


def test_errors(adult):
    url, tokens, _ = adult
    row = golden_rows(url, tokens["predict"], 1)[0]
    with client(url, tokens["predict"], fetch_schema=False) as session:
        with pytest.raises(TransportQueryError) as e:
            run(session, "{ model(name: \"nope\") { name } }")
        assert e.value.errors[0]["extensions"]["code"] == "model_not_found"
        assert e.value.errors[0]["path"] == ["model"]
        with pytest.raises(TransportQueryError) as e:
            run(session, PREDICT, {"v": {**row, "age": "forty"}})
        fields = e.value.errors[0]["extensions"]["fields"]
        assert fields[0]["path"] == ["input", "adult", "age"] and fields[0]["expected"] == "Float"
        missing = {k: v for k, v in row.items() if k != "hours_per_week"}
        with pytest.raises(TransportQueryError) as e:
            run(session, PREDICT, {"v": missing})
        error = e.value.errors[0]
        assert error["path"] == ["predict"]
        assert error["extensions"]["fields"][0]["path"] == ["input", "adult", "hours_per_week"]
        # `drift` needs `metrics`, as `/models/{name}/drift`.
        with pytest.raises(TransportQueryError) as e:
            run(session, "{ drift(model: \"adult\") }")
        assert e.value.errors[0]["extensions"]["code"] == "forbidden"
        deep = "name"
        for _ in range(10):
            deep = f"fields {{ type {{ {deep} }} }}"
        with pytest.raises(TransportQueryError) as e:
            run(session, f"{{ __schema {{ types {{ {deep} }} }} }}")
        assert e.value.errors[0]["extensions"]["code"] == "query_too_deep"
    with client(url, tokens["metrics"], fetch_schema=False) as session:
        assert run(session, "{ drift(model: \"adult\") }")["drift"]["model"] == "adult"
    # A token without `predict` is refused before GraphQL runs (HTTP 403), none at all 401.
    with client(url, tokens["feedback"], fetch_schema=False) as session:
        with pytest.raises(TransportServerError) as e:
            run(session, "{ models { name } }")
        assert e.value.code == 403
    assert requests.post(url + "/graphql", json={"query": "{ models { name } }"}, timeout=10).status_code == 401


def test_predict_latency_graphql_vs_rest(adult):
    """Sequential requests on one keep-alive connection each, interleaved, same row; printed."""
    url, tokens, _ = adult
    auth = {"Authorization": f"Bearer {tokens['predict']}"}
    row = golden_rows(url, tokens["predict"], 1)[0]
    query = {"query": PREDICT, "variables": {"v": row}}
    rest, graph = requests.Session(), requests.Session()
    times = {"rest": [], "graphql": []}
    for i in range(400):
        for name, session, path, body in (("rest", rest, "/models/adult/predict", row),
                                          ("graphql", graph, "/graphql", query)):
            started = time.perf_counter()
            answer = session.post(url + path, json=body, headers=auth, timeout=10)
            elapsed = time.perf_counter() - started
            assert answer.status_code == 200 and "errors" not in answer.json()
            if i >= 50:  # warm-up
                times[name].append(elapsed * 1000)
    for name, values in times.items():
        values.sort()
        print(f"\n{name}: n={len(values)} median={statistics.median(values):.3f} ms "
              f"p95={values[int(len(values) * 0.95)]:.3f} ms")

"""/metrics parses with prometheus_client; /openapi.json passes openapi-spec-validator."""

import requests
from openapi_spec_validator import validate
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import GOLDEN, add_key, start_server, stop_server

SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def test_metrics_parse(server):
    requests.post(server.url + "/predict", json=SETOSA, headers=server.auth(), timeout=10)
    adult = requests.get(server.url + "/models/adult", headers=server.auth(), timeout=10).json()
    record = dict(adult["example"], workclass="Space-force")
    r = requests.post(server.url + "/models/adult/predict", json=record, headers=server.auth(),
                      timeout=10)
    assert r.status_code == 200, r.text
    text = requests.get(server.url + "/metrics", headers=server.auth(), timeout=10).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ("tabship_http_requests", "tabship_http_request_duration_seconds",
                 "tabship_http_requests_in_flight", "tabship_predictions",
                 "tabship_unknown_values", "tabship_missing_values", "tabship_model_load_seconds",
                 "tabship_build_info"):
        assert name in families, name
    assert families["tabship_http_request_duration_seconds"].type == "histogram"
    setosa = [s for s in families["tabship_predictions"].samples
              if s.labels.get("class") == "setosa" and s.name.endswith("_total")]
    assert setosa and setosa[0].value >= 1
    unknown = [s for s in families["tabship_unknown_values"].samples
               if s.labels.get("column") == "workclass" and s.name.endswith("_total")]
    assert unknown[0].value >= 1
    ok = [s for s in families["tabship_http_requests"].samples
          if s.labels == {"route": "/predict", "method": "POST", "status": "200"}]
    assert ok and ok[0].value >= 1


def test_metrics_need_the_scope(server):
    assert requests.get(server.url + "/metrics", timeout=10).status_code == 401


def test_openapi_validates(server):
    doc = requests.get(server.url + "/openapi.json", timeout=10).json()
    validate(doc)
    record = doc["components"]["schemas"]["adult.record"]
    assert "Private" in record["properties"]["workclass"]["anyOf"][0]["enum"]
    example = doc["paths"]["/models/adult/predict"]["post"]["requestBody"]["content"][
        "application/json"]["example"]
    r = requests.post(server.url + "/models/adult/predict", json=example, headers=server.auth(),
                      timeout=10)
    assert r.status_code == 200, r.text


def test_protect_docs_puts_the_pages_behind_the_predict_scope(tmp_path):
    keys = tmp_path / "keys.toml"
    token = add_key(keys, "reader", "predict")
    metrics_only = add_key(keys, "scraper", "metrics")
    url, process = start_server([str(GOLDEN / "iris_logistic.tabship"), "--keys", str(keys),
                                 "--protect-docs"])
    try:
        for path in ("/openapi.json", "/docs", "/ui", "/ui/iris"):
            r = requests.get(url + path, timeout=10)
            assert r.status_code == 401, path
            assert r.json()["error"]["code"] == "unauthorized"
            r = requests.get(url + path, headers={"Authorization": f"Bearer {metrics_only}"},
                             timeout=10)
            assert r.status_code == 403, path
            r = requests.get(url + path, headers={"Authorization": f"Bearer {token}"},
                             timeout=10)
            assert r.status_code == 200, path
        doc = requests.get(url + "/openapi.json", headers={"Authorization": f"Bearer {token}"},
                           timeout=10).json()
        validate(doc)
        assert doc["paths"]["/docs"]["get"]["security"] == [{"bearer": []}]
        assert requests.get(url + "/health/ready", timeout=10).status_code == 200
    finally:
        stop_server(process)

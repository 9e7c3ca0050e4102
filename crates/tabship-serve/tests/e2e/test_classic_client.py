"""The classic FastAPI-style client: `requests` posting a record with a bearer token."""

import requests

SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def test_valid_token_gets_the_prediction_and_username(server):
    r = requests.post(server.url + "/predict", json=SETOSA, headers=server.auth(), timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["prediction"] == "setosa"
    assert body["username"] == "pedro1"
    assert body["model"] == "iris"
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-12
    assert body["request_id"] == r.headers["x-request-id"]


def test_invalid_token_is_401(server):
    for headers in ({"Authorization": "Bearer not-a-token"}, {}):
        r = requests.post(server.url + "/predict", json=SETOSA, headers=headers, timeout=10)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.json()["error"]["code"] == "unauthorized"


def test_missing_scope_is_403_and_bad_fields_are_400(server):
    r = requests.post(server.url + "/admin/models/iris/rollback", headers=server.auth(), timeout=10)
    assert r.status_code == 403
    r = requests.post(server.url + "/predict", json={"sepal_length": "long"},
                      headers=server.auth(), timeout=10)
    assert r.status_code == 400
    fields = {f["field"]: f for f in r.json()["error"]["fields"]}
    assert fields["sepal_length"]["received"] == "`long`"
    assert fields["petal_width"]["received"] == "nothing"


def test_feedback_round_trip(server):
    r = requests.post(server.url + "/predict", json=SETOSA, headers=server.auth(), timeout=10)
    rid = r.json()["request_id"]
    f = requests.post(server.url + "/feedback", json={"request_id": rid, "label": "setosa"},
                      headers=server.auth(), timeout=10)
    assert f.status_code == 200, f.text
    assert f.json()["correct"] is True


def test_admin_upload_as_a_multipart_form(server):
    """`requests` files= (what `curl -F file=@model.tabship` sends) loads a version."""
    from conftest import GOLDEN

    url = server.url + "/admin/models/iris/versions"
    admin = server.auth(server.admin_token)
    with open(GOLDEN / "iris_tree.tabship", "rb") as f:
        r = requests.post(url, files={"file": ("iris_tree.tabship", f)},
                          data={"version": "from-form", "activate": "false"},
                          headers=admin, timeout=30)
    assert r.status_code == 201, r.text
    assert r.json()["loaded"]["version"] == "from-form"
    r = requests.post(server.url + "/models/iris/versions/from-form/predict", json=SETOSA,
                      headers=server.auth(), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == "from-form"
    # Not activated: the default route still serves the version it served before.
    r = requests.post(server.url + "/predict", json=SETOSA, headers=server.auth(), timeout=10)
    assert r.json()["version"] != "from-form"

    r = requests.post(url, files={"file": ("x.tabship", b"not an artifact")}, headers=admin,
                      timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_artifact", r.text
    r = requests.post(url, files={"version": (None, "3")}, headers=admin, timeout=10)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["fields"][0]["field"] == "form part `file`"
    # Parts are checked as they stream in: an unknown part before the file is named as such (a
    # file part whose first bytes are not an artifact is refused before later parts are read).
    r = requests.post(url, files={"colour": (None, "red"), "file": ("a", b"x")}, headers=admin,
                      timeout=10)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["fields"][0]["field"] == "form part `colour`"

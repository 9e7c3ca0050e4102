"""HTTPS with --tls-cert/--tls-key (a throwaway self-signed certificate made by openssl)."""

import subprocess

import requests

from conftest import GOLDEN, start_server, stop_server

SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def test_https(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30)
    url, process = start_server(
        [str(GOLDEN / "iris_logistic.tabship"), "--tls-cert", str(cert), "--tls-key", str(key)],
        scheme="https", verify=str(cert))
    try:
        r = requests.post(url + "/predict", json=SETOSA, verify=str(cert), timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["prediction"] == "setosa"
        plain = url.replace("https://", "http://")
        try:
            requests.get(plain + "/", timeout=5)
        except requests.ConnectionError:
            pass
        else:
            raise AssertionError("plain HTTP must not be served on the TLS port")
    finally:
        stop_server(process)

"""HTTPS with --tls-cert/--tls-key (a throwaway self-signed certificate made by openssl)."""

import signal
import subprocess
import time

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


def make_cert(cert, key, name):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={name}", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30)


def served_by(url, cert):
    """True when a new connection verifies against `cert` (the server presents it)."""
    try:
        return requests.get(url + "/health/live", verify=str(cert), timeout=5).status_code == 200
    except requests.exceptions.SSLError:
        return False


def test_sighup_reloads_the_certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    make_cert(cert, key, "first")
    first = tmp_path / "first.pem"
    first.write_bytes(cert.read_bytes())
    url, process = start_server(
        [str(GOLDEN / "iris_logistic.tabship"), "--tls-cert", str(cert), "--tls-key", str(key)],
        scheme="https", verify=str(cert))
    try:
        make_cert(cert, key, "second")  # a renewal in place
        assert served_by(url, first) and not served_by(url, cert), "not before SIGHUP"
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not served_by(url, cert) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served_by(url, cert) and not served_by(url, first), "the renewed certificate"
        # A broken pair is refused: the renewed certificate keeps serving.
        key.write_text("not a key")
        process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert process.poll() is None, "a bad reload does not stop the server"
        r = requests.post(url + "/predict", json=SETOSA, verify=str(cert), timeout=10)
        assert r.status_code == 200, r.text
    finally:
        stop_server(process)

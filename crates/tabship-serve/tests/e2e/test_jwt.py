"""JWT bearer tokens against the real server: tokens minted by PyJWT (RS256, ES256, EdDSA), a JWKS
served on loopback by this test, and every way a token can be wrong, each answered with exactly
its status and RFC 6750 challenge. Prints the token matrix (case -> status)."""

import base64
import hashlib
import hmac
import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from conftest import GOLDEN, add_key, start_server, stop_server

ISSUER = "https://idp.example.test/realms/bank"
AUDIENCE = "tabship-api"
SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Jwks:
    """A JWKS document on 127.0.0.1 that the test can rotate; counts the server's fetches."""

    def __init__(self):
        self.keys = []
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def public_jwk(algorithm, key, kid, alg):
    jwk = algorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def claims(scope="tabship:predict", **changes):
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc-batch", "iat": now, "exp": now + 600,
            "scope": scope}
    body.update(changes)
    return body


def check(url, token, path="/predict"):
    headers = {"Authorization": f"Bearer {token}"}
    if path == "/predict":
        return requests.post(url + path, json=SETOSA, headers=headers, timeout=10)
    return requests.get(url + path, headers=headers, timeout=10)


def assert_refusal(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == code, r.text
    challenge = r.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and f'error="{code}"' in challenge, challenge
    assert "error_description=" in challenge, challenge


def test_token_matrix(tmp_path):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = Jwks()
    jwks.keys = [public_jwk(RSAAlgorithm, rsa_key, "rsa-1", "RS256"),
                 public_jwk(ECAlgorithm, ec_key, "ec-1", "ES256"),
                 public_jwk(OKPAlgorithm, ed_key, "ed-1", "EdDSA")]
    keys = tmp_path / "keys.toml"
    static = add_key(keys, "pedro1", "predict")
    log = tmp_path / "predictions.jsonl"
    url, process = start_server([
        str(GOLDEN / "iris_logistic.tabship"), "--keys", str(keys), "--log", str(log),
        "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE, "--jwks", jwks.url,
        "--jwt-scope-prefix", "tabship:", "--jwks-min-refetch", "1s", "--jwt-leeway", "5s"])
    matrix = []

    def case(name, token, status, code=None, why="", path="/predict"):
        """Each refusal must be for its own reason: `why` is in the error description."""
        r = check(url, token, path)
        reason = r.json()["error"]["message"] if code else ""
        matrix.append((name, r.status_code, reason))
        if code is None:
            assert r.status_code == status, f"{name}: {r.text}"
        else:
            assert_refusal(r, status, code)
            assert why in reason, f"{name}: {reason}"
        return r

    try:
        rs = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
        body = case("valid RS256", rs, 200).json()
        assert body["username"] == "svc-batch" and body["prediction"] == "setosa"
        case("valid ES256",
             jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "ec-1"}), 200)
        case("valid EdDSA",
             jwt.encode(claims(), ed_key, algorithm="EdDSA", headers={"kid": "ed-1"}), 200)
        case("keys-file token beside JWT", static, 200)
        now = int(time.time())
        case("expired", jwt.encode(claims(exp=now - 120), rsa_key, algorithm="RS256",
                                   headers={"kid": "rsa-1"}), 401, "invalid_token", "expired")
        case("not yet valid (nbf)", jwt.encode(claims(nbf=now + 600), rsa_key, algorithm="RS256",
                                               headers={"kid": "rsa-1"}), 401, "invalid_token", "not valid yet")
        case("wrong issuer", jwt.encode(claims(iss="https://evil.example.test/"), rsa_key,
                                        algorithm="RS256", headers={"kid": "rsa-1"}),
             401, "invalid_token", "issuer")
        case("wrong audience", jwt.encode(claims(aud="another-api"), rsa_key, algorithm="RS256",
                                          headers={"kid": "rsa-1"}), 401, "invalid_token", "audience")
        case("alg: none", jwt.encode(claims(), None, algorithm="none"), 401, "invalid_token",
             "`none` is not accepted")
        # Algorithm confusion: HS256 keyed with the RSA public key's PEM, naming the RSA kid.
        # PyJWT refuses to make this token, so it is assembled by hand.
        pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        signing_input = (b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
                         + "." + b64(json.dumps(claims()).encode()))
        confused = signing_input + "." + b64(
            hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
        case("HS256 signed with the RSA public key", confused, 401, "invalid_token", "HS256")
        head, _, sig = rs.split(".")
        tampered = ".".join([head, b64(json.dumps(claims(sub="admin-user")).encode()), sig])
        case("tampered payload", tampered, 401, "invalid_token", "signature")
        case("missing scope (metrics only)",
             jwt.encode(claims(scope="tabship:metrics"), rsa_key, algorithm="RS256",
                        headers={"kid": "rsa-1"}), 403, "insufficient_scope", "`predict` scope")
        case("metrics scope on /metrics",
             jwt.encode(claims(scope="tabship:metrics"), rsa_key, algorithm="RS256",
                        headers={"kid": "rsa-1"}), 200, path="/metrics")

        # Key rotation: a token signed by a key the JWKS does not list yet, then listed.
        fresh = jwt.encode(claims(), rotated, algorithm="RS256", headers={"kid": "rsa-2"})
        before = jwks.fetches
        case("unknown kid", fresh, 401, "invalid_token", "unknown key id")
        for _ in range(20):  # made-up kids: the refetches stay bounded by --jwks-min-refetch
            assert check(url, fresh).status_code == 401
        assert jwks.fetches - before <= 2, jwks.fetches - before
        jwks.keys.append(public_jwk(RSAAlgorithm, rotated, "rsa-2", "RS256"))
        started = time.monotonic()
        status = None
        while time.monotonic() - started < 15:
            status = check(url, fresh).status_code
            if status == 200:
                break
            time.sleep(0.2)
        matrix.append(("unknown kid, then rotated in (refetched)", status, ""))
        assert status == 200
        elapsed = time.monotonic() - started
        assert jwks.fetches - before <= 3 + int(elapsed), (jwks.fetches - before, elapsed)

        # The username reaches the prediction log.
        deadline = time.monotonic() + 10
        users = set()
        while "svc-batch" not in users and time.monotonic() < deadline:
            if log.exists():
                users = {json.loads(line).get("username") for line in log.read_text().splitlines()
                         if line.strip()}
            time.sleep(0.1)
        assert "svc-batch" in users and "pedro1" in users, users
        # ... and the access log, with why each refused token was refused.
        events = [json.loads(line)["fields"] for line in list(process.log_lines)]
        assert any(e.get("user") == "svc-batch" and e.get("status") == 200 for e in events)
        reasons = {e.get("reason") for e in events if e.get("message") == "bearer token refused"}
        assert "the token has expired" in reasons, reasons
    finally:
        stop_server(process)
        jwks.close()
    print(f"\ntoken matrix (case -> status), JWKS fetched {jwks.fetches} times:")
    for name, status, reason in matrix:
        print(f"  {name:42} {status}  {reason}")


def test_sighup_reloads_a_jwks_file(tmp_path):
    old = ed25519.Ed25519PrivateKey.generate()
    new = ed25519.Ed25519PrivateKey.generate()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk(OKPAlgorithm, old, "2026-11", "EdDSA")]}))
    url, process = start_server([
        str(GOLDEN / "iris_logistic.tabship"), "--jwt-issuer", ISSUER,
        "--jwt-audience", AUDIENCE, "--jwks", str(path), "--jwt-scope-prefix", "tabship:"])
    try:
        token = jwt.encode(claims(), new, algorithm="EdDSA", headers={"kid": "2026-12"})
        assert_refusal(check(url, token), 401, "invalid_token")
        path.write_text(json.dumps({"keys": [public_jwk(OKPAlgorithm, old, "2026-11", "EdDSA"),
                                             public_jwk(OKPAlgorithm, new, "2026-12", "EdDSA")]}))
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while check(url, token).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert check(url, token).status_code == 200
        assert requests.get(url + "/health/live", timeout=10).status_code == 200
    finally:
        stop_server(process)


def test_rate_limit_burst_then_429(tmp_path):
    keys = tmp_path / "keys.toml"
    ana = add_key(keys, "ana", "predict")
    bo = add_key(keys, "bo", "predict")
    url, process = start_server([
        str(GOLDEN / "iris_logistic.tabship"), "--keys", str(keys),
        "--rate-limit", "1/m", "--rate-limit-burst", "5"])
    try:
        statuses = [check(url, ana).status_code for _ in range(8)]
        assert statuses == [200] * 5 + [429] * 3, statuses
        r = check(url, ana)
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 60, r.headers["retry-after"]
        assert all(requests.get(url + "/health/ready", timeout=10).status_code == 200
                   for _ in range(20))
        assert check(url, bo).status_code == 200, "another principal has its own budget"
        print(f"\nrate limit 1/m burst 5, 8 requests: {statuses}; Retry-After "
              f"{r.headers['retry-after']} s")
    finally:
        stop_server(process)


def test_a_key_removed_at_the_provider_stops_working_after_the_refresh_interval(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    jwks = Jwks()
    jwks.keys = [public_jwk(ECAlgorithm, key, "ec-old", "ES256")]
    url, process = start_server([
        str(GOLDEN / "iris_logistic.tabship"), "--jwt-issuer", ISSUER,
        "--jwt-audience", AUDIENCE, "--jwks", jwks.url, "--jwks-refresh", "1s",
        "--jwks-min-refetch", "1s"])
    try:
        token = jwt.encode(claims(scope="predict"), key, algorithm="ES256",
                           headers={"kid": "ec-old"})
        assert check(url, token).status_code == 200
        jwks.keys = []  # revoked at the provider
        started = time.monotonic()
        status = 200
        while status == 200 and time.monotonic() - started < 15:
            status = check(url, token).status_code
            time.sleep(0.1)
        assert status == 401, "the background refresh dropped the key"
        elapsed = time.monotonic() - started
        assert jwks.fetches <= 3 + int(elapsed), (jwks.fetches, elapsed)
    finally:
        stop_server(process)
        jwks.close()

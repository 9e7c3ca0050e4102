#!/usr/bin/env python3
"""An invalid state.json (the audit's hole 5: one split weight of 2^64 lost six uploaded
versions): a state directory with three uploaded versions, an alias, a split and a shadow is
damaged one way at a time; for each, the script restarts the server on a copy and prints what
is still served, whether it is ready, what was set aside, and how many versions the next admin
change saves (it must not orphan the uploads).

Usage: scripts/reliability/invalid_state.py
"""

import json
import shutil
import tempfile
from pathlib import Path

from common import GOLDEN, Server, add_key, request


def damage_field(path, change):
    state = json.loads(path.read_text())
    change(state["models"]["iris"], state)
    path.write_text(json.dumps(state))


MUTATIONS = {
    "split weight 2^64": lambda m, s: m["split"][0].update(weight=2**64),
    "alias is a number": lambda m, s: m["aliases"].update(production=12),
    "version record without checksum": lambda m, s: m["versions"][0].pop("checksum"),
    "version record of unknown origin": lambda m, s: m["versions"][1].update(origin="ftp"),
    "current is an unknown version": lambda m, s: m.update(current="nope"),
    "history holds a number": lambda m, s: m["history"].append(3),
    "shadow is a list": lambda m, s: m.update(shadow=["v1"]),
    "model entry is a string": lambda m, s: s["models"].update(iris="x"),
    "unknown top-level field": lambda m, s: s.update(extra=1),
}


def setup(tmp, keys_args, headers):
    state = Path(tmp) / "pristine"
    server = Server([*keys_args, "--state-dir", state])
    tree = (GOLDEN / "iris_tree.tabship").read_bytes()
    raw = {**headers, "Content-Type": "application/octet-stream"}
    for version in ("v1", "v2", "v3"):
        status, body = request(server.address, "POST",
                               f"/admin/models/iris/versions?version={version}", tree, raw)
        assert status == 201, body
    for method, path, body in [
        ("PUT", "/admin/models/iris/aliases/production", {"version": "v2"}),
        ("PUT", "/admin/models/iris/split", {"versions": {"v3": 80, "v2": 20}}),
        ("PUT", "/admin/models/iris/shadow", {"version": "v1"}),
    ]:
        status, answer = request(server.address, method, path, json.dumps(body).encode(),
                                 {**headers, "Content-Type": "application/json"})
        assert status == 200, answer
    assert server.stop() == 0
    return state


def check(name, pristine, tmp, keys_args, headers, damage):
    state = Path(tmp) / name.replace(" ", "-").replace("^", "")
    shutil.copytree(pristine, state)
    damage(state)
    server = Server([*keys_args, "--state-dir", state])
    ready = request(server.address, "GET", "/health/ready")[0]
    model = json.loads(request(server.address, "GET", "/models/iris", headers=headers)[1])
    versions = sorted(v["version"] for v in model["versions"])
    aside = sorted(p.name.split("-")[0].replace("state.json.", "")
                   for p in state.glob("state.json.*"))
    status, answer = request(server.address, "PUT", "/admin/models/iris/aliases/after",
                             json.dumps({"version": "golden"}).encode(),
                             {**headers, "Content-Type": "application/json"})
    saved = json.loads((state / "state.json").read_text())["models"]["iris"]["versions"]
    server.stop()
    split = ",".join(f"{a['version']}:{a['weight']}" for a in model["split"] or []) or "-"
    print(f"| {name} | {ready} | {' '.join(versions)} | {model['current_version']} | "
          f"{','.join(f'{k}={v}' for k, v in model['aliases'].items()) or '-'} | {split} | "
          f"{model['shadow'] or '-'} | {','.join(aside) or '-'} | {len(saved)} ({status}) |",
          flush=True)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.toml"
        admin = add_key(keys, "ops", "predict,admin")
        headers = {"Authorization": f"Bearer {admin}"}
        keys_args = [GOLDEN / "iris_logistic.tabship", "--keys", keys]
        pristine = setup(tmp, keys_args, headers)
        print("| damage | ready | versions served | current | aliases | split | shadow | "
              "set aside | versions saved by the next change |")
        print("|---|---|---|---|---|---|---|---|---|")
        check("none", pristine, tmp, keys_args, headers, lambda state: None)
        for name, change in MUTATIONS.items():
            check(name, pristine, tmp, keys_args, headers,
                  lambda state, change=change: damage_field(state / "state.json", change))
        check("truncated JSON", pristine, tmp, keys_args, headers,
              lambda state: (state / "state.json").write_text(
                  (state / "state.json").read_text()[:40]))
        check("v3's artifact deleted", pristine, tmp, keys_args, headers,
              lambda state: (state / "models/iris/v3.tabship").unlink())
        check("v3's artifact truncated", pristine, tmp, keys_args, headers,
              lambda state: (state / "models/iris/v3.tabship").write_bytes(
                  (state / "models/iris/v3.tabship").read_bytes()[:100]))


if __name__ == "__main__":
    main()

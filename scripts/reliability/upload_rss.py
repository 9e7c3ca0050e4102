#!/usr/bin/env python3
"""Upload attack: the server's memory (VmRSS, VmHWM from /proc) before and after
  - 1 and 4 parallel token-less 500 MB POSTs to the upload route (the audit's hole 1),
  - 4 parallel 500 MB uploads with a predict-only token (403),
  - 1 authenticated 600 MB upload declared by Content-Length (over the 512 MiB limit),
  - 1 authenticated 600 MB chunked upload (no declared length; refused at the limit),
  - 1 authenticated 500 MB upload that is not an artifact (spooled to disk, then refused).
Each case runs on a fresh server so VmHWM is that case's peak. Prints one line per case.

Usage: scripts/reliability/upload_rss.py [--mb 500]
"""

import argparse
import select
import socket
import tempfile
import threading
import time
from pathlib import Path

from common import GOLDEN, Server, add_key, mib

CHUNK = bytes(1 << 20)


def post(address, size, token, chunked=False, declared=None):
    """Streams a `size`-byte POST, reading the answer as soon as it comes; returns
    (status or error, bytes the kernel took before the answer, seconds)."""
    sock = socket.create_connection(address, timeout=120)
    head = ["POST /admin/models/iris/versions?version=attack HTTP/1.1", "Host: localhost",
            "Content-Type: application/octet-stream"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if chunked:
        head.append("Transfer-Encoding: chunked")
    else:
        head.append(f"Content-Length: {declared if declared is not None else size}")
    started = time.monotonic()
    sent = 0
    answer = b""
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        while sent < size:
            readable, writable, _ = select.select([sock], [sock], [], 120)
            if readable:
                break
            if not writable:
                return "stalled", sent, time.monotonic() - started
            piece = CHUNK[: min(len(CHUNK), size - sent)]
            if chunked:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            else:
                sock.sendall(piece)
            sent += len(piece)
        if chunked and sent >= size:
            sock.sendall(b"0\r\n\r\n")
        while b"\r\n" not in answer:
            more = sock.recv(4096)
            if not more:
                break
            answer += more
    except (BrokenPipeError, ConnectionResetError):
        # The server answered and closed while we were still sending: read what it said.
        try:
            answer += sock.recv(4096)
        except OSError:
            pass
    finally:
        sock.close()
    status = answer.split(b" ")[1].decode() if answer.startswith(b"HTTP/1.1") else "closed"
    return status, sent, time.monotonic() - started


def case(name, args, clients, size, token, **kwargs):
    server = Server(args)
    before_rss, _ = server.memory()
    peak = [0]
    done = threading.Event()

    def watch():
        # VmHWM is the true peak; this samples VmRSS too, to show memory returned afterwards.
        while not done.wait(0.05):
            peak[0] = max(peak[0], server.memory()[0])

    watcher = threading.Thread(target=watch)
    watcher.start()
    results = [None] * clients

    def one(i):
        results[i] = post(server.address, size, token, **kwargs)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    after_rss, hwm = server.memory()
    server.stop()
    statuses = ",".join(sorted({r[0] for r in results}))
    sent = max(r[1] for r in results)
    seconds = max(r[2] for r in results)
    print(f"{name:<44} clients={clients} status={statuses:<4} "
          f"sent_before_answer<={sent / 2**20:.0f} MiB  rss_before={mib(before_rss)} "
          f"hwm={mib(hwm)} rss_after={mib(after_rss)}  {seconds:.1f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500, help="upload size in MB (10^6 bytes)")
    size = parser.parse_args().mb * 10**6
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.toml"
        admin = add_key(keys, "ops", "predict,admin")
        predict = add_key(keys, "app", "predict")
        state = Path(tmp) / "state"
        args = [GOLDEN / "iris_logistic.tabship", "--keys", keys]
        case(f"no token, {size // 10**6} MB", args, 1, size, None)
        case(f"no token, {size // 10**6} MB", args, 4, size, None)
        case(f"predict-only token, {size // 10**6} MB", args, 4, size, predict)
        big = 600 * 10**6
        case("admin, declared 600 MB (over 512 MiB)", args, 1, big, admin)
        case("admin, chunked 600 MB (over 512 MiB)", args, 1, big, admin, chunked=True)
        case(f"admin, {size // 10**6} MB not an artifact, --state-dir", [*args, "--state-dir", state],
             1, size, admin)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Idle and slow connections against prediction latency (the audit's hole 2: 1,100 idle sockets
with the open-file limit at 1,024 made every prediction time out).

The server runs with its defaults (--max-connections 512, --header-timeout 10) under
`ulimit -n 1024`. For each count of idle sockets (connected, nothing sent) the script measures
  - predictions every 50 ms on a keep-alive connection opened before the flood,
  - predictions on new connections (each waits for a free slot when the cap is reached),
and then how long trickling clients (one header byte a second) are kept before being closed.

Usage: scripts/reliability/idle_connections.py [--idle 0,500,1100] [--requests 20]
"""

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

from common import GOLDEN, SETOSA, Server, percentile, raise_own_nofile, request

JSON = {"Content-Type": "application/json"}


def timed(address, requests, sock=None, timeout=60):
    latencies, failed = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        try:
            status, _ = request(address, "POST", "/predict", SETOSA, JSON, timeout=timeout,
                                sock=sock)
            if status != 200:
                failed += 1
            latencies.append((time.perf_counter() - started) * 1000)
        except OSError:
            failed += 1
    return latencies, failed


def fmt(latencies):
    if not latencies:
        return "none answered"
    return (f"p50={percentile(latencies, 50):.1f} ms p99={percentile(latencies, 99):.1f} ms "
            f"max={max(latencies):.1f} ms")


def idle_round(server, idle, requests):
    """A steady client predicts every 50 ms on one keep-alive connection while `idle` sockets
    connect and sit silent; then `requests` predictions on new connections."""
    keep = socket.create_connection(server.address, timeout=60)
    stop = threading.Event()
    kept, kept_failed = [], [0]

    def steady():
        while not stop.is_set():
            latencies, failed = timed(server.address, 1, sock=keep)
            kept.extend(latencies)
            kept_failed[0] += failed
            if failed:
                return
            stop.wait(0.05)

    steady_thread = threading.Thread(target=steady)
    steady_thread.start()
    sockets = []
    try:
        started = time.monotonic()
        for _ in range(idle):
            sockets.append(socket.create_connection(server.address, timeout=60))
        opened = time.monotonic() - started
        fresh, fresh_failed = timed(server.address, requests)
        stop.set()
        steady_thread.join()
        still_open = 0
        for s in sockets:
            s.setblocking(False)
            try:
                still_open += s.recv(1) != b""
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
        print(f"idle={idle:>5} (connected in {opened:.1f} s)  steady keep-alive client: "
              f"{fmt(kept)} failed={kept_failed[0]}  |  new connections: {fmt(fresh)} "
              f"failed={fresh_failed}  |  idle sockets the server had closed: "
              f"{idle - still_open}", flush=True)
    finally:
        stop.set()
        steady_thread.join()
        keep.close()
        for s in sockets:
            s.close()


def trickle(server, clients, limit_seconds):
    """Clients each sending one header byte a second; seconds until the server closed each."""
    request_head = b"GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 1000
    closed_after = []
    lock = threading.Lock()

    def one():
        sock = socket.create_connection(server.address, timeout=5)
        started = time.monotonic()
        try:
            for byte in request_head:
                if time.monotonic() - started > limit_seconds:
                    break
                sock.sendall(bytes([byte]))
                time.sleep(1)
        except OSError:
            with lock:
                closed_after.append(time.monotonic() - started)
        finally:
            sock.close()

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if closed_after:
        print(f"trickling clients={clients}: closed by the server {len(closed_after)}, "
              f"after {min(closed_after):.1f}-{max(closed_after):.1f} s "
              f"(--header-timeout 10)", flush=True)
    else:
        print(f"trickling clients={clients}: none closed within {limit_seconds} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", default="0,500,1100")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--trickle", type=int, default=50)
    opts = parser.parse_args()
    counts = [int(c) for c in opts.idle.split(",")]
    raise_own_nofile(max(counts) + 256)
    with tempfile.TemporaryDirectory():
        server = Server([GOLDEN / "iris_logistic.tabship"], nofile=1024)
        print(f"server: ulimit -n 1024, --max-connections 512, --header-timeout 10 "
              f"(binary {Path(server.process.args[0]).name})")
        for idle in counts:
            idle_round(server, idle, opts.requests)
        trickle(server, opts.trickle, 40)
        _, failed = timed(server.address, 5)
        print(f"after the trickle: new connections failed={failed} of 5", flush=True)
        server.stop()


if __name__ == "__main__":
    main()

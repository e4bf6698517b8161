"""Load benchmark of the case API on loopback, and the kill -9 durability check.

Starts ``python app.py`` on a free port with a fresh data folder holding a small county (the
test suite's tiny county, so that the benchmark measures the write path, not set-up), then:

1. sends ``--cases`` case writes from ``--clients`` concurrent clients, bounded in count and
   time, and prints writes per second, latency percentiles and losses (acknowledged cases
   missing from the store);
2. with ``--kill``, sends writes again, kills the server with SIGKILL in the middle, restarts
   it and checks that every acknowledged case is present.

    .venv/bin/python benchmarks/api_load.py --cases 3000 --clients 8 --kill
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from wangge.access import Scope

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import X0, Y0, load_tiny_county  # noqa: E402

from wangge.store import Store  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "WANGGE_DATA_DIR": str(data_dir), "PORT": str(port), "HOST": "127.0.0.1"}
    # serve without the demo set-up: the store is prepared already
    code = (
        "from waitress import serve; from dashboard.app import create_app; "
        f"serve(create_app().server, host='127.0.0.1', port={port}, threads=24)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def writer(
    port: int,
    token: str,
    ids: range,
    acked: list,
    latencies: list,
    stop: threading.Event,
    prefix: str,
):
    for i in ids:
        if stop.is_set():
            return
        body = json.dumps(
            {
                "client_id": f"{prefix}-{i}",
                "category": "sanitation",
                "lon": X0 + 0.001 + (i % 37) * 0.001,
                "lat": Y0 + 0.005,
                "title": "load",
            }
        )
        t = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(
                "POST",
                "/api/v1/cases",
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            resp = conn.getresponse()
            data = resp.read()
            if resp.status in (200, 201):
                acked.append(json.loads(data)["case_id"])
                latencies.append(time.perf_counter() - t)
        except OSError:
            if stop.is_set():
                return
            time.sleep(0.05)


def run_load(port, token, n, clients, prefix, *, kill_after=None, proc=None, time_limit=120.0):
    acked: list[str] = []
    latencies: list[float] = []
    stop = threading.Event()
    per = n // clients
    threads = [
        threading.Thread(
            target=writer,
            args=(port, token, range(c * per, (c + 1) * per), acked, latencies, stop, prefix),
        )
        for c in range(clients)
    ]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    if kill_after is not None:
        while len(acked) < kill_after and time.perf_counter() - t0 < time_limit:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
    deadline = t0 + time_limit
    for th in threads:
        th.join(max(0.1, deadline - time.perf_counter()))
    stop.set()
    return acked, latencies, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kill", action="store_true", help="also run the kill -9 check")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        store = Store(data / "wangge.sqlite")
        load_tiny_county(store)
        token = store.create_token("load", "writer")
        port = free_port()
        proc = start_server(data, port)
        try:
            acked, lat, secs = run_load(port, token, args.cases, args.clients, "load")
        finally:
            proc.terminate()
            proc.wait()
        stored = set(store.cases_frame(scope=Scope.county())["case_id"])
        lat.sort()
        pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        print("| test | writes | clients | seconds | writes/s | p50 ms | p95 ms | p99 ms | lost |")
        print("|---|---|---|---|---|---|---|---|---|")
        print(
            f"| load | {len(acked)} | {args.clients} | {secs:.2f} | {len(acked) / secs:.0f} | {pct(0.5):.1f} "
            f"| {pct(0.95):.1f} | {pct(0.99):.1f} | {len(set(acked) - stored)} |"
        )
        if args.kill:
            proc = start_server(data, port)
            acked, lat, secs = run_load(
                port, token, args.cases, args.clients, "kill", kill_after=args.cases // 3, proc=proc
            )
            proc = start_server(data, port)  # restart on the same file
            proc.terminate()
            proc.wait()
            stored = set(store.cases_frame(scope=Scope.county())["case_id"])
            print(
                f"| kill -9 after {args.cases // 3} acks | {len(acked)} | {args.clients} | {secs:.2f} | - | - | - | - "
                f"| {len(set(acked) - stored)} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

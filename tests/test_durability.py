"""No acknowledged write is lost: kill -9 the server in the middle of a load of case writes."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import X0, Y0, load_tiny_county

from wangge.access import Scope
from wangge.store import Store

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data: Path, port: int) -> subprocess.Popen:
    code = (
        "from waitress import serve; from dashboard.app import create_app; "
        f"serve(create_app().server, host='127.0.0.1', port={port}, threads=16)"
    )
    env = {**os.environ, "WANGGE_DATA_DIR": str(data)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(150):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    proc.kill()
    raise RuntimeError("the server did not start")


def test_every_acknowledged_case_survives_kill_9(tmp_path):
    store = Store(tmp_path / "wangge.sqlite")
    load_tiny_county(store)
    token = store.create_token("load", "writer")
    port = _port()
    proc = _serve(tmp_path, port)
    acked: list[str] = []
    stop = threading.Event()

    def client(c: int) -> None:
        for i in range(10_000):  # bounded; stops at the kill
            if stop.is_set():
                return
            body = json.dumps(
                {
                    "client_id": f"k{c}-{i}",
                    "category": "safety",
                    "lon": X0 + 0.005,
                    "lat": Y0 + 0.005,
                }
            )
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request(
                    "POST",
                    "/api/v1/cases",
                    body=body,
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {token}",
                    },
                )
                resp = conn.getresponse()
                payload = resp.read()
                if resp.status == 201:
                    acked.append(json.loads(payload)["case_id"])
            except (OSError, http.client.HTTPException):  # the server was killed mid-answer
                return
            finally:
                conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acked) >= 300
    # a new process opens the same file: WAL recovery, then every acknowledged case is there
    after = Store(tmp_path / "wangge.sqlite")
    stored = set(after.cases_frame(scope=Scope.county())["case_id"])
    assert set(acked) <= stored
    events = after.count("case_events")
    assert events == len(stored)  # each case kept its first status event, no half-written case

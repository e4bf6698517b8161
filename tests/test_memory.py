"""The server's native heap is handed back to the system (dashboard/memory.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dashboard import memory

STATM = Path("/proc/self/statm")
pytestmark = pytest.mark.skipif(
    not STATM.exists() or memory._glibc() is None, reason="glibc on Linux only"
)


def _rss_mb() -> float:
    return int(STATM.read_text().split()[1]) * 4096 / 1e6


def test_trim_returns_memory_freed_by_worker_threads():
    # like waitress's threads building and dropping responses: buffers above pymalloc's 512-byte
    # limit come from glibc, each thread from its own arena, and stay mapped when freed
    kept: list[bytes] = []

    def work() -> None:
        buffers = [bytes(2000 + i % 7) for i in range(20_000)]
        kept.extend(buffers[::100])  # a few survivors pin the arenas' tops

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    before = _rss_mb()
    assert memory.trim()
    after = _rss_mb()
    assert before - after > 100, (before, after)  # about 240 MB were freed
    assert len(kept) == 1200


def test_bound_native_heap_starts_one_trimmer():
    assert memory.bound_native_heap(every_s=3600)
    assert memory.bound_native_heap(every_s=3600)  # idempotent
    names = [t.name for t in threading.enumerate()]
    assert names.count("wangge-malloc-trim") == 1

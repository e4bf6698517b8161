"""Keep the server's native heap from creeping up over days of wall refreshes.

The wall must run for days without memory growth. Soaks of the served app (``benchmarks/
browser.py --soak``) showed the browser's JS heap flat and the Python heap flat (tracemalloc:
2.8 -> 3.0 MB over 300 refreshes) while the server's RSS rose in slowing steps (527 -> 571 MB
over 150 minutes, 562 -> 592 MB over 78 minutes with the live feed). That is glibc's allocator,
not a leak: waitress runs 24 threads, glibc gives threads up to 8 arenas per core, and freed
memory in each arena stays mapped until it is trimmed. Two remedies, both standard glibc calls:

- ``mallopt(M_ARENA_MAX, 2)`` at start-up, so the threads share two arenas instead of sixteen
  (the same as ``MALLOC_ARENA_MAX=2`` in the environment, which must be set before Python starts);
- ``malloc_trim(0)`` once a minute from a daemon thread, handing freed pages back to the system.

Elsewhere (musl, macOS, Windows) both are skipped: :func:`bound_native_heap` returns ``False``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time

__all__ = ["bound_native_heap", "trim"]

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # from glibc's malloc.h
_libc: ctypes.CDLL | None = None
_started = False
_lock = threading.Lock()


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        if not name:
            return None
        try:
            libc = ctypes.CDLL(name)
            libc.malloc_trim  # noqa: B018 - only glibc has it
            libc.mallopt  # noqa: B018
        except (OSError, AttributeError):
            return None
        _libc = libc
    return _libc


def trim() -> bool:
    """Return freed heap pages to the system now; ``True`` when glibc did it."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def bound_native_heap(arenas: int = 2, every_s: float = 60.0) -> bool:
    """Cap glibc's malloc arenas and trim the heap every ``every_s`` seconds (once per process).

    Returns ``True`` when glibc is there and both are in place, ``False`` elsewhere.
    """
    global _started
    libc = _glibc()
    if libc is None:
        return False
    with _lock:
        if _started:
            return True
        _started = True
    libc.mallopt(M_ARENA_MAX, int(arenas))

    def loop() -> None:
        while True:
            time.sleep(every_s)
            trim()

    threading.Thread(target=loop, name="wangge-malloc-trim", daemon=True).start()
    log.info("native heap: %d malloc arenas, trimmed every %g s", arenas, every_s)
    return True

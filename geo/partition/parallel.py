"""Run the partition's jobs: in this process, in a local process pool, or on a Dask cluster.

The jobs (:mod:`geo.partition.community`: a few communities, or pieces of a large one) are
independent and deterministic, and their results come back in the order of the jobs, so the
output is byte for byte the same whichever way they run and however many workers there are.

A Dask cluster (``dask.distributed``, the optional extra ``dask``) takes the jobs of a run too
large for one machine: ``partition(..., dask="tcp://scheduler:8786")`` or
``wangge partition ... --dask tcp://scheduler:8786``. The workers need the same ``wangge``
installed; each job travels to them pickled (its buildings, lines and settings, about 1 MB
per 2,000 buildings) and comes back with its cells and grids.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

__all__ = ["run_ordered"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def run_ordered(
    fn: Callable[[T], R],
    jobs: Sequence[T],
    *,
    sizes: Sequence[float],
    workers: int | None = None,
    dask: Any = None,
    progress: Callable[[int], None] | None = None,
) -> list[R]:
    """``[fn(job) for job in jobs]``, in parallel when worth it, in the order of ``jobs``.

    Parameters
    ----------
    fn
        A module-level function (it is pickled by reference for the workers).
    jobs
        The jobs.
    sizes
        A size per job: the largest start first, so that the workers finish together.
    workers
        Local worker processes (default: the cores, at most 4, when the jobs hold 20,000 or
        more units; else 1, in this process).
    dask
        A ``dask.distributed`` scheduler address (``"tcp://host:8786"``) or ``Client``: the
        jobs run on that cluster instead of locally.
    progress
        Called with the position of each job as it finishes.

    Examples
    --------
    >>> run_ordered(abs, [-3, 1, -2], sizes=[1, 1, 1])
    [3, 1, 2]
    """
    order = sorted(range(len(jobs)), key=lambda i: (-sizes[i], i))
    if dask is not None:
        return _on_dask(fn, jobs, order, dask, progress)
    if workers is None:
        big = sum(sizes) >= 20_000 and len(jobs) > 1
        workers = min(os.cpu_count() or 1, 4) if big else 1
    results: list[Any] = [None] * len(jobs)
    if workers <= 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            results[i] = fn(job)
            if progress is not None:
                progress(i)
        return results
    if "fork" not in mp.get_all_start_methods():
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(fn, jobs[i]): i for i in order}
            _collect(futures, results, progress)
        return results
    # forked workers find the jobs in their copy of this process: only the job's position
    # travels, not the job pickled (this process pickled 50 MB of jobs for 100,000 buildings
    # on the core the workers needed)
    global _FORKED
    _FORKED = (fn, jobs)
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(_run_forked, i): i for i in order}
            _collect(futures, results, progress)
    finally:
        _FORKED = None
    return results


#: (fn, jobs) of the run whose forked workers are starting: they inherit it.
_FORKED: tuple[Callable, Sequence] | None = None


def _run_forked(i: int) -> Any:
    """Job ``i`` of the run this worker was forked from."""
    assert _FORKED is not None, "a forked worker without its jobs"
    fn, jobs = _FORKED
    return fn(jobs[i])


def _collect(futures: dict, results: list, progress: Callable[[int], None] | None) -> None:
    for fut in as_completed(futures):
        results[futures[fut]] = fut.result()
        if progress is not None:
            progress(futures[fut])


def _on_dask(fn, jobs, order, dask, progress) -> list:
    """The jobs on a ``dask.distributed`` cluster, largest first, results in job order."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            "dask: running on a cluster needs dask.distributed; install the extra: "
            "pip install 'wangge[dask]'"
        ) from exc
    own = not isinstance(dask, Client)
    client = Client(dask) if own else dask
    try:
        log.info("partition: %d jobs on the Dask cluster %s", len(jobs), dask if own else "")
        futures = client.map(fn, [jobs[i] for i in order], pure=False)
        position = {f.key: i for f, i in zip(futures, order, strict=True)}
        results: list[Any] = [None] * len(jobs)
        for fut in dask_completed(futures):
            i = position[fut.key]
            results[i] = fut.result()
            if progress is not None:
                progress(i)
        return results
    finally:
        if own:
            client.close()

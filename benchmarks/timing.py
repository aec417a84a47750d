"""What the benchmark scripts share: interleaved timing and a report of BLAS thread pools."""

import os
import time
from typing import Callable

from threadpoolctl import threadpool_info


def time_round_robin(runs: dict[str, Callable[[], object]], repeats: int,
                     warm_up: bool = True, rotate: bool = False) -> dict[str, list[float]]:
    """Seconds per call of each run, ``repeats`` times each, taking the runs in turn (so a load
    spike hits every run alike); first one untimed call each if ``warm_up``; with ``rotate``
    each round starts one run later (so no run always finds memory cold)."""
    if warm_up:
        for run in runs.values():
            run()
    seconds = {name: [] for name in runs}
    names = list(runs)
    for round_ in range(repeats):
        shift = round_ % len(names) if rotate else 0
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            runs[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def blas_threads() -> str:
    """The BLAS libraries loaded and their thread counts, e.g. "numpy's openblas 1"."""
    pools = []
    for pool in threadpool_info():
        if pool["user_api"] == "blas":
            owner = next((part[:-len(".libs")] for part in pool["filepath"].split(os.sep)
                          if part.endswith(".libs")), "?")   # wheels ship BLAS in <package>.libs/
            pools.append(f"{owner}'s {pool['internal_api']} {pool['num_threads']}")
    return ", ".join(pools) or "none found"


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise ValueError(f"{value} is not >= 1")
    return value

"""Timing helper shared by the benchmarks in this folder."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def interleaved_times(
    calls: dict[str, Callable[[], Any]], warmup: int, repeats: int
) -> dict[str, np.ndarray]:
    """Wall time in microseconds of each of ``repeats`` calls of every function.

    The functions take turns, so that a change in machine load hits them alike; the
    garbage collector is off while timing (as in :mod:`timeit`).
    """
    for _ in range(warmup):
        for call in calls.values():
            call()
    times = {name: np.empty(repeats) for name in calls}
    gc.disable()
    try:
        for i in range(repeats):
            for name, call in calls.items():
                start = time.perf_counter_ns()
                call()
                times[name][i] = (time.perf_counter_ns() - start) / 1e3
    finally:
        gc.enable()
    return times

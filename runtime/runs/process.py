"""What a run does to the process it runs in: the garbage collector, SIGTERM and the
run's log file. Viewers and benchmarks that live long take the first too.
"""

from __future__ import annotations

import gc
import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hamlet.runtime.files import refused_writes


def freeze_long_lived_objects() -> None:
    """Leave what exists now (torch, the model, the world: some 300k objects) out of the
    garbage collector's full passes, each of which would otherwise hold the interpreter
    for ~0.3 s on a slow machine, stalling training and the stream with it. For long
    runs and viewers, once they are set up."""
    gc.collect()
    gc.freeze()


@contextmanager
def graceful_interrupt() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C: the run saves a final checkpoint and stops."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not in the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class RunLog(logging.FileHandler):
    """run.log: a line it cannot write (a full disk) is dropped without the traceback
    logging would print; the run's next checkpoint or database write reports the disk."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def run_logger(path: Path) -> logging.Logger:
    """A logger that writes to ``path`` alone (a run's run.log), with timestamps."""
    log = logging.getLogger(f"hamlet.run.{path.parent.name}.{time.monotonic_ns()}")
    log.setLevel(logging.INFO)
    log.propagate = False
    with refused_writes(path):
        handler = RunLog(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    return log


def close_logger(log: logging.Logger) -> None:
    """Close and detach the logger's files (a sweep's worker runs many runs)."""
    for handler in list(log.handlers):
        handler.close()
        log.removeHandler(handler)

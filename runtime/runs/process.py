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


class InterruptGate:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt at once, except inside ``with gate:``,
    where they wait for the block's end: a training step and the recording of the
    episodes it ended are not cut in two (a checkpoint would count an episode that
    metrics.sqlite never got). Once one has stopped the run, later ones are ignored:
    a second Ctrl-C, or a sweep driver's SIGTERM after the terminal's SIGINT, must not
    cut the final checkpoint short."""

    def __init__(self) -> None:
        self.holding = False
        self.pending = False
        self.stopped = False

    def handle(self, signum: int, frame: Any) -> None:
        if self.stopped:
            return
        if self.holding:
            self.pending = True
        else:
            self.stop()

    def stop(self) -> None:
        self.stopped = True
        raise KeyboardInterrupt

    def __enter__(self) -> None:
        self.holding = True

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.holding = False
        if self.pending and kind is None:
            self.pending = False
            self.stop()


@contextmanager
def graceful_interrupt() -> Iterator[InterruptGate]:
    """SIGTERM behaves like Ctrl-C: the run saves a final checkpoint and stops. Both go
    through the gate it yields. Ctrl-C is taken only where Python would raise
    KeyboardInterrupt for it: a process that ignores it (a sweep's worker, a script's
    background job) keeps ignoring it. Outside the main thread, where signals cannot be
    caught, the gate holds nothing back."""
    gate = InterruptGate()
    stops = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        stops.append(signal.SIGINT)
    try:
        previous = {number: signal.signal(number, gate.handle) for number in stops}
    except ValueError:  # not in the main thread: leave signals alone
        yield gate
        return
    try:
        yield gate
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


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

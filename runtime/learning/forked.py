"""A helper process forked from the trainer's, spoken to through a pipe.

Two helpers use it: the learner (:mod:`.pipeline`), and the evaluator of a run's
learning curve (:mod:`hamlet.runtime.runs.curve`). A fork inherits everything as it is,
so a helper needs no set-up: it reads its messages and answers them in order. It leaves
the run's signals to the run's process: Ctrl-C and SIGTERM are for the run to handle
(it ends its helpers itself), and a terminal's resize must not wake the viewer's event
loop. A helper that raises sends its traceback instead of an answer; one that dies is
seen at the next wait for it. Either is a :class:`HelperFailed`, never a hang.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any


class HelperFailed(RuntimeError):
    """A helper process raised an error or ended: ``reason`` in a line, ``details`` (its
    traceback, if it raised one)."""

    what = "a helper process"

    def __init__(self, reason: str, details: str = "") -> None:
        super().__init__(f"{self.what} failed: {reason}")
        self.reason, self.details = reason, details


Serve = Callable[..., None]
"""A helper's body: ``serve(conn, *args)`` answers the :func:`messages` from ``conn``."""


class Forked:
    """One helper process, and the pipe to it."""

    def __init__(
        self, serve: Serve, *args: Any, name: str, failed: type[HelperFailed] = HelperFailed
    ) -> None:
        self._failed = failed
        context = multiprocessing.get_context("fork")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(
            target=_run, args=(serve, theirs, *args), name=name,
            daemon=True,  # it never outlives the run's process
        )  # fmt: skip
        self._process.start()
        theirs.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def send(self, *message: Any) -> None:
        try:
            self._conn.send(message)
        except OSError:  # (the pipe is closed: the helper has gone)
            self._process.join(timeout=5)
            raise self._failed(_ended(self._process.exitcode)) from None

    def answered(self) -> bool:
        """An answer is waiting (or the helper has gone: :meth:`receive` says which)."""
        return self._conn.poll() or not self._process.is_alive()

    def receive(self, kind: str) -> tuple[Any, ...]:
        """Wait for the next answer, which must be of ``kind``."""
        spin(self._conn)
        while not self._conn.poll(1.0):
            if not self._process.is_alive():
                break
        try:
            message = self._conn.recv()
        except (EOFError, OSError):
            self._process.join(timeout=5)
            raise self._failed(_ended(self._process.exitcode)) from None
        if message[0] == "error":
            details = message[1].rstrip()
            raise self._failed(f"it raised {details.splitlines()[-1]}", details)
        assert message[0] == kind, (message[0], kind)
        return message

    def close(self) -> None:
        """End the helper (what it is doing is dropped)."""
        if self._process.is_alive():
            with contextlib.suppress(OSError):  # (it may be on its way out)
                self._conn.send(("close",))
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._conn.close()


def messages(conn: Any) -> Iterator[tuple[Any, ...]]:
    """(In a helper.) The messages from the run's process, in order, until it sends
    ``("close",)`` or goes (the end of the pipe)."""
    while True:
        spin(conn)
        try:
            message = conn.recv()
        except EOFError:
            return
        if message[0] == "close":
            return
        yield message


SPIN = 200e-6
"""How long a wait for a message polls before it sleeps: waking a sleeping process
costs tens of microseconds or more, and the learner and the agents meet hundreds of
times a second."""


def spin(conn: Any) -> None:
    """Poll ``conn`` for up to :data:`SPIN` seconds (a message that comes by then is read
    without going to sleep)."""
    deadline = time.perf_counter() + SPIN
    while not conn.poll() and time.perf_counter() < deadline:
        pass


def _ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"it was killed by {signal.Signals(-exitcode).name}"
    return f"it ended (exit code {exitcode})"


def _run(serve: Serve, conn: Any, *args: Any) -> None:
    """The helper process: its signals, then ``serve``; an error goes back as an answer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGWINCH, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    try:
        serve(conn, *args)
    except BaseException:
        with contextlib.suppress(OSError):  # (unless the trainer's process has gone)
            conn.send(("error", traceback.format_exc()))

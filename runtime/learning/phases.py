"""Where a training run's wall time goes, phase by phase, at the cost of a clock read.

A :class:`PhaseClock` keeps one running total per phase. Code marks the end of a phase
with :meth:`PhaseClock.lap`: the time since the previous lap goes to that phase. Laps
follow each other, so the totals always add up to the wall time since the clock
started. Nothing is left out and nothing is counted twice. :meth:`PhaseClock.window`
closes a window of a few seconds and returns its :class:`Throughput`. That is each
phase's share of the window, agent-steps/s and gradient steps/s: the figures the progress
display, ``metrics.sqlite`` and ``hamlet run --json`` show.

The phases (:data:`PHASES`):

* ``act``: choosing actions (the network's forward pass, exploration);
* ``world``: the town's step;
* ``store``: writing transitions to the replay;
* ``learn``: sampling, the loss, backward, the optimizer, target updates;
* ``rnd``: the novelty networks (intrinsic reward and their own training);
* ``record``: the watched agent's recording and the live stream;
* ``evaluate``: the periodic greedy evaluation;
* ``other``: everything else (closing episodes, the metrics database, checkpoints).

A lap reads ``time.perf_counter`` and adds to a float, ~0.2 µs. It never waits for a
device. On CUDA the host runs ahead of the GPU, so a phase's share is the host's time
in it, and the wait for the GPU falls to the phase that first needs a result.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

PHASES = ("act", "world", "store", "learn", "rnd", "record", "evaluate", "other")


@dataclass(frozen=True)
class Throughput:
    """One window of a run: how fast it went, and where its time went."""

    seconds: float
    """The window's length (wall time)."""
    agent_steps_per_s: float
    gradient_steps_per_s: float
    shares: dict[str, float]
    """Each phase's fraction of the window, in :data:`PHASES` order (they sum to 1)."""

    def to_dict(self) -> dict[str, float | dict[str, float]]:
        return {
            "seconds": self.seconds,
            "agent_steps_per_s": self.agent_steps_per_s,
            "gradient_steps_per_s": self.gradient_steps_per_s,
            "phases": dict(self.shares),
        }

    def describe(self) -> str:
        """``act 12% world 8% ...``: the phases' shares, for a status line."""
        return " ".join(f"{name} {share:.0%}" for name, share in self.shares.items())


class PhaseClock:
    """Running totals of wall time per phase (see the module's docstring)."""

    __slots__ = ("_counts", "_last", "_window_seconds", "_window_start", "latest", "seconds")

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)
        """Seconds spent in each phase since the clock started."""
        self.latest: Throughput | None = None
        """The last window closed by :meth:`window` (None before the first)."""
        self._last = time.perf_counter()
        self._window_start = self._last
        self._window_seconds = dict(self.seconds)
        self._counts = (0, 0)

    def lap(self, phase: str) -> None:
        """End ``phase`` now: the time since the previous lap was spent in it."""
        now = time.perf_counter()
        self.seconds[phase] += now - self._last
        self._last = now

    @contextmanager
    def counting(self, phase: str) -> Iterator[None]:
        """Count the time of the ``with`` block as ``phase`` (what came before it as
        ``other``): for work done now and then, such as an episode's recording."""
        self.lap("other")
        try:
            yield
        finally:
            self.lap(phase)

    def restart_window(self, agent_steps: int, gradient_steps: int) -> None:
        """Start a window here, with the run's counts now (a run starts or resumes)."""
        self.lap("other")
        self._window_start = self._last
        self._window_seconds = dict(self.seconds)
        self._counts = (agent_steps, gradient_steps)

    def window(self, agent_steps: int, gradient_steps: int) -> Throughput:
        """Close the window that began at the last call (or at :meth:`restart_window`),
        given the run's counts now; the result is also kept in :attr:`latest`."""
        self.lap("other")
        length = max(self._last - self._window_start, 1e-9)
        spent = {name: self.seconds[name] - self._window_seconds[name] for name in PHASES}
        total = max(sum(spent.values()), 1e-9)
        steps, grads = agent_steps - self._counts[0], gradient_steps - self._counts[1]
        self.latest = Throughput(
            seconds=length,
            agent_steps_per_s=steps / length,
            gradient_steps_per_s=grads / length,
            shares={name: spent[name] / total for name in PHASES},
        )
        self.restart_window(agent_steps, gradient_steps)
        return self.latest

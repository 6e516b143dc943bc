"""What the watched agent's episodes become while a run trains: the chosen ones recorded
on disk (the pack's ``recording`` section) and all of them streamed to live viewers, with
training stats once a second."""

from __future__ import annotations

import statistics
import time
from collections import deque
from pathlib import Path

from hamlet.runtime.learning.trainer import Episode, Trainer
from hamlet.runtime.telemetry import (
    EpisodeRecorder,
    RecordingSelector,
    RecordingWriter,
    hello_message,
)
from hamlet.runtime.telemetry.streaming import StreamServer

from .metrics import MetricsDB

EVALUATIONS_SHOWN = 50
"""Evaluations sent with each stats message: the latest, enough for a chart's width."""


class Live:
    """Agent 0 watched: its episodes streamed (``stream``) and the chosen ones recorded
    (the pack's ``recording``), with training stats for the viewers once a second."""

    def __init__(
        self,
        trainer: Trainer,
        run_dir: Path,
        db: MetricsDB,
        stream: StreamServer | None,
        pack: str,
        seed: int,
    ) -> None:
        config = trainer.pack.training.recording
        self.trainer, self.stream = trainer, stream
        self.selector = RecordingSelector(config) if config.enabled else None
        self.writer = RecordingWriter(run_dir, db.connection) if config.enabled else None
        if stream is None and self.writer is None:
            return
        trainer.recorder = EpisodeRecorder(
            trainer.world,
            live_stream_callback=stream.episodes if stream is not None else None,
            keep=self.writer is not None,
        )
        self.survival: deque[int] = deque(maxlen=100)
        self.evaluations: deque[dict[str, float]] = deque(maxlen=EVALUATIONS_SHOWN)
        self.last_stats = (time.perf_counter(), trainer.env_steps)
        self.rate = 0.0  # agent-steps/s over the last whole window; 0 until one has passed
        if stream is not None:
            hello = hello_message(
                trainer.world, source="training", pack=pack, run_dir=str(run_dir), seed=seed,
                agents=trainer.num_agents,
            )  # fmt: skip
            stream.start(hello)

    def episodes_ended(self, episodes: list[Episode]) -> None:
        trainer = self.trainer
        if trainer.recorder is None:
            return
        if self.selector is not None and self.writer is not None:
            chosen = []
            for _ in (e for e in episodes if e.transition is not None):
                chosen += self.selector.transition()
            for message in trainer.recorder.take_finished():
                chosen += self.selector.consider(message)
            for message, reasons in chosen:
                self.writer.write(message, reasons)
        if self.stream is not None:
            self.survival.extend(e.steps for e in episodes)
            self._stats()

    def evaluated(self, row: dict[str, float | int]) -> None:
        """A greedy evaluation of the learning curve: the viewers draw it over the
        training episodes (every stats message carries the latest few, so a viewer that
        joins late sees the curve so far)."""
        if self.stream is not None:
            point = {"episode": int(row["episode"]), "survival": float(row["mean_survival"])}
            self.evaluations.append(point)
            self._stats(now=True)  # news: the viewers need not wait for the next second

    def _stats(self, now: bool = False) -> None:
        """Publish the training figures, at most once a second unless ``now``. The rate is
        measured over windows of a second at least: one published ``now``, moments after
        the last, keeps the last window's rate (a short window would read 0, or noise)."""
        trainer, (since, steps) = self.trainer, self.last_stats
        clock = time.perf_counter()
        if clock - since >= 1.0:
            self.rate = (trainer.env_steps - steps) * trainer.num_agents / (clock - since)
            self.last_stats = (clock, trainer.env_steps)
        elif not now:
            return
        assert self.stream is not None
        self.stream.publish_stats({
            "episodes": trainer.episodes_done,
            "env_steps": trainer.env_steps,
            "agent_steps": trainer.env_steps * trainer.num_agents,
            "agent_steps_per_second": self.rate,
            "epsilon": trainer.epsilon.value,
            "stage": trainer.curriculum.stage,
            "loss": trainer.last_stats.get("loss"),
            "recent_survival": statistics.fmean(self.survival) if self.survival else None,
            "evaluations": list(self.evaluations),
            "time": time.time(),
        })  # fmt: skip

    def before_pause(self) -> None:
        """Let the viewers have the episodes already ended before a checkpoint is written
        (pickling holds the interpreter for a while, and the stream would wait)."""
        if self.stream is not None:
            self.stream.drain(timeout=0.5)

    def close(self, reason: str) -> None:
        if self.stream is not None:
            self.stream.close(reason)

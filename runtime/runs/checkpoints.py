"""A run's checkpoints: when one is due, and writing it while training goes on.

Every ``checkpoint_every`` episodes a run saves a pair of files: a training checkpoint
(``checkpoint_epNNNNNN.pt``, enough to resume exactly) and an inference one
(``model_epNNNNNN.pt``). The training state is copied at that episode, and a thread
beside the training loop writes the copy: the write, and above all its fsync, no longer
stop the agents (at 64 agents a run saves every half second or so). One write is in
flight at a time; a checkpoint that falls due while the one before is still being
written waits for it. A pair is named in ``run_state`` and the log only once both its
files are whole, and only then are older pairs rotated out, so what a reader sees is
always there. A state larger than :data:`COPY_LIMIT` is not copied: it is written on the
spot, training waiting, as is the last checkpoint of a session.

Ctrl-C and SIGTERM reach the training loop's thread only, so they never cut a write
short; the final checkpoint waits for the write in flight.
"""

from __future__ import annotations

import copy
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch

from hamlet.runtime.learning.pipeline import map_nested
from hamlet.runtime.learning.trainer import Trainer
from hamlet.runtime.model.checkpoint import (
    InferenceCheckpoint,
    TrainingCheckpoint,
    inference_name,
    save_checkpoint,
    training_name,
)

from .directory import RunDirectory
from .live import Live
from .metrics import MetricsDB

COPY_LIMIT = 256 * 2**20
"""The largest state (bytes of tensors) copied to be written beside training: a copy
needs that much memory again for as long as the write takes. Past it (a replay memory of
hundreds of MiB) the run writes its checkpoints in place."""


class Clock:
    """A run's training time, over all its sessions (for time budgets and curves)."""

    def __init__(self, before: float) -> None:
        self.before, self.started = before, time.monotonic()

    def elapsed(self) -> float:
        return self.before + time.monotonic() - self.started


@dataclass(frozen=True)
class _Pair:
    """A checkpoint pair, as it was when it fell due."""

    episode: int
    training: TrainingCheckpoint
    inference: InferenceCheckpoint


class Checkpoints:
    """Saves a run's checkpoint pairs (see the module's docstring)."""

    def __init__(
        self,
        run: RunDirectory,
        trainer: Trainer,
        *,
        every: int,
        keep: int,
        config: dict[str, str],
        metadata: dict[str, Any],
        clock: Clock,
        db: MetricsDB,
        live: Live,
        log: logging.Logger,
    ) -> None:
        self.run, self.trainer, self.every, self.keep = run, trainer, every, keep
        self.config, self.metadata, self.clock = config, metadata, clock
        self.db, self.live, self.log = db, live, log
        self.last = trainer.episodes_done
        """Episodes done at the last checkpoint taken (written or being written)."""
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hamlet-checkpoint")
        self._writing: tuple[_Pair, Future[None]] | None = None
        self._copied: bool | None = None
        """Whether checkpoints are copied and written beside training (known at the first)."""

    def due(self) -> bool:
        """Whether the episodes done have passed a multiple of ``every`` since the last."""
        return self.trainer.episodes_done // self.every > self.last // self.every

    @property
    def pending(self) -> bool:
        """Episodes were done since the last checkpoint (the final one has work to do)."""
        return self.trainer.episodes_done != self.last or not self.run.training_checkpoints()

    def save(self, *, final: bool = False) -> None:
        """Take a checkpoint pair now; write it beside training, or (``final``, or a
        state over :data:`COPY_LIMIT`) on the spot."""
        self.finish()  # (one write at a time, and the newest pair last)
        trainer = self.trainer
        self.live.before_pause()
        trainer.settle()  # (the model as the gradient step in progress leaves it)
        metadata = trainer.metadata(self.metadata)
        pair = _Pair(
            trainer.episodes_done,
            trainer.checkpoint(self.config, self.metadata),
            trainer.model.checkpoint(**metadata),
        )
        self.last = pair.episode
        if self._copied is None:  # (a run's state keeps its size: its replay is allocated)
            self._copied = _tensor_bytes(pair.training) <= COPY_LIMIT
        if final or not self._copied:
            self._write(pair)
            self._written(pair)
        else:  # what training changes from now on must not reach the files
            pair = _copy(pair)
            self._writing = (pair, self._writer.submit(self._write, pair))

    def poll(self) -> None:
        """Record the write in flight if it has ended (its error, such as a full disk's
        E313, is raised here)."""
        if self._writing is not None and self._writing[1].done():
            self.finish()

    def finish(self) -> None:
        """Wait for the write in flight, if any, and record it."""
        if self._writing is not None:
            pair, future = self._writing
            self._writing = None
            future.result()
            self._written(pair)

    def close(self) -> None:
        """End the writer's thread once the write in flight, if any, has ended (a failed
        run's: what became of it no longer matters, it is not recorded)."""
        self._writing = None
        self._writer.shutdown(wait=True)

    def _write(self, pair: _Pair) -> None:
        checkpoints = self.run.checkpoints
        save_checkpoint(pair.training, checkpoints / training_name(pair.episode))
        save_checkpoint(pair.inference, checkpoints / inference_name(pair.episode))
        self.run.rotate(self.keep)

    def _written(self, pair: _Pair) -> None:
        self.db.set_state(
            last_checkpoint=training_name(pair.episode),
            episodes_done=self.trainer.episodes_done, train_seconds=self.clock.elapsed(),
        )  # fmt: skip
        self.log.info("checkpoint at episode %d", pair.episode)


def _copy(value: Any) -> Any:
    """A copy of a checkpoint that shares no tensor, list or dict with it (as
    ``copy.deepcopy``, in half the time: most of a checkpoint is plain values)."""

    def leaf(v: Any) -> Any:
        if isinstance(v, torch.Tensor):
            return v.clone()
        if v is None or isinstance(v, str | int | float | bytes):
            return v
        return copy.deepcopy(v)

    return map_nested(value, leaf)


def _tensor_bytes(value: Any) -> int:
    """The bytes of every tensor in ``value`` (nested dicts, lists and dataclasses)."""
    sizes: list[int] = []

    def leaf(v: Any) -> Any:
        if isinstance(v, torch.Tensor):
            sizes.append(v.numel() * v.element_size())
        return v

    map_nested(value, leaf)
    return sum(sizes)

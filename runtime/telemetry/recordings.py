"""Recordings on disk: which of the watched agent's episodes are kept, and how.

A :class:`RecordingSelector` picks the episodes worth keeping (periodic, around
curriculum transitions, best and worst of a window, first of each stage; the pack's
``recording`` section), and a :class:`RecordingWriter` writes each as
``recordings/episode_NNNNNN.json.gz`` in the run directory (the episode message of
``schemas/stream.schema.json``, gzipped) with a ``recordings`` row in the run's
``metrics.sqlite``.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections import deque
from pathlib import Path
from typing import Any

from hamlet.runtime.files import write_atomically

Message = dict[str, Any]
RECORDINGS = "recordings"


class RecordingWriter:
    """Writes chosen episodes under ``run_dir/recordings`` with a row each in the run's
    database (its ``recordings`` table, see :mod:`hamlet.runtime.runs.metrics`)."""

    def __init__(self, run_dir: str | Path, connection: sqlite3.Connection) -> None:
        self.folder = Path(run_dir) / RECORDINGS
        self.folder.mkdir(exist_ok=True)
        self.connection = connection

    def write(self, message: Message, reasons: list[str]) -> Path:
        episode = message["episode"]
        path = self.folder / f"episode_{episode:06d}.json.gz"
        row = self.connection.execute(
            "SELECT reasons FROM recordings WHERE episode = ?", (episode,)
        ).fetchone()
        merged = sorted({*(json.loads(row[0]) if row else []), *reasons})
        data = gzip.compress(json.dumps({**message, "reasons": merged}).encode(), 6)
        write_atomically(path, lambda handle: handle.write(data))
        self.connection.execute(
            "INSERT OR REPLACE INTO recordings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                episode,
                path.relative_to(self.folder.parent).as_posix(),
                json.dumps(merged),
                message["survival"],
                message["reward"],
                message["stage"],
                message["outcome"],
                message["finished_at"],
            ),
        )
        self.connection.commit()
        return path


class RecordingSelector:
    """Decides which of the watched agent's episodes are written to disk, and why.

    Feed it every watched episode (:meth:`consider`) and every curriculum change
    (:meth:`transition`); it returns ``(message, reasons)`` pairs to write. Memory is
    bounded: the last ``transition_before`` episodes and the window's best and worst.
    """

    def __init__(self, config: Any) -> None:
        self.config = config
        self._recent: deque[Message] = deque(maxlen=max(config.transition_before, 0) or 1)
        self._after_left = 0
        self._stage_seen = 0
        self._in_window = 0
        self._best: Message | None = None
        self._worst: Message | None = None
        self._periodic_bucket = -1

    def transition(self) -> list[tuple[Message, list[str]]]:
        """A curriculum change happened: keep the episodes just before it, and the next
        ``transition_after`` ones, and count the new stage's first episodes afresh."""
        self._after_left = self.config.transition_after
        self._stage_seen = 0
        before = list(self._recent) if self.config.transition_before > 0 else []
        self._recent.clear()
        return [(m, ["transition"]) for m in before]

    def consider(self, message: Message) -> list[tuple[Message, list[str]]]:
        config, reasons = self.config, []
        bucket = message["episode"] // config.periodic_every if config.periodic_every else -1
        if config.periodic_every and bucket > self._periodic_bucket:
            self._periodic_bucket = bucket
            reasons.append("periodic")
        if self._stage_seen < config.stage_first:
            reasons.append("stage_start")
        self._stage_seen += 1
        if self._after_left > 0:
            self._after_left -= 1
            reasons.append("transition")
        out = [(message, reasons)] if reasons else []
        self._recent.append(message)
        out += self._extremes(message)
        return [(m, r) for m, r in out if r]

    def _extremes(self, message: Message) -> list[tuple[Message, list[str]]]:
        window = self.config.extremes_window
        if not window:
            return []
        score = message["reward"]
        if self._best is None or score > self._best["reward"]:
            self._best = message
        if self._worst is None or score < self._worst["reward"]:
            self._worst = message
        self._in_window += 1
        if self._in_window < window:
            return []
        best, worst = self._best, self._worst
        self._in_window, self._best, self._worst = 0, None, None
        assert best is not None and worst is not None
        if best is worst:
            return [(best, ["best", "worst"])]
        return [(best, ["best"]), (worst, ["worst"])]

"""Recordings on disk: ``recordings/episode_NNNNNN.json.gz`` in a run directory (the
episode message of ``schemas/stream.schema.json``, gzipped) and a ``recordings`` row
each in the run's ``metrics.sqlite``."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

from hamlet.schemas.errors import CheckpointError, Diagnostic

from .checkpoint import write_atomically

Message = dict[str, Any]
RECORDINGS = "recordings"


class RecordingWriter:
    """Writes chosen episodes under ``run_dir/recordings`` with a row each in the run's
    database (its ``recordings`` table, see :mod:`hamlet.runtime.metrics`)."""

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


def list_recordings(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a run's recordings, oldest episode first."""
    db = Path(run_dir) / "metrics.sqlite"
    if not db.is_file():
        raise _not_a_run(run_dir)
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        try:
            rows = connection.execute(
                "SELECT episode, path, reasons, survival, reward, stage, outcome, timestamp "
                "FROM recordings ORDER BY episode"
            ).fetchall()
        except sqlite3.OperationalError:  # a run directory older than recordings
            return []
    finally:
        connection.close()
    keys = ("episode", "path", "reasons", "survival", "reward", "stage", "outcome", "timestamp")
    return [{**dict(zip(keys, r, strict=True)), "reasons": json.loads(r[2])} for r in rows]


def load_recording(path: str | Path) -> Message:
    """An episode message from a recording file."""
    try:
        return json.loads(gzip.decompress(Path(path).read_bytes()))
    except (OSError, EOFError, ValueError) as error:
        raise CheckpointError(
            Diagnostic("E200", f"{path} is not a HAMLET recording ({error})", file=str(path))
        ) from error


def _not_a_run(run_dir: str | Path) -> CheckpointError:
    return CheckpointError(
        Diagnostic(
            "E200",
            f"{run_dir} is not a run directory (it has no metrics.sqlite)",
            hint="give the folder hamlet run created, e.g. runs/L0_5_dual_resource/"
            "2026-01-01_120000",
            file=str(run_dir),
        )
    )

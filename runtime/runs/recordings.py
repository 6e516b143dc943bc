"""A run's recordings, read back: the rows of its database's ``recordings`` table and the
episode files they name, which must lie inside the run's ``recordings/`` folder (a row is
data, and data may have been tampered with): ``load_recording(recording_file(run_dir,
row))`` for each row of ``list_recordings(run_dir)``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from hamlet.runtime.telemetry.recordings import RECORDINGS
from hamlet.schemas.errors import Diagnostic, RunError

from .directory import RunDirectory
from .metrics import damaged, read_rows

Message = dict[str, Any]
COLUMNS = ("episode", "path", "reasons", "survival", "reward", "stage", "outcome", "timestamp")


def list_recordings(run_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a run's recordings, oldest episode first (a run from before recordings
    existed has none)."""
    run = RunDirectory.open(run_dir)
    tables = read_rows(run.metrics, "SELECT name FROM sqlite_master WHERE type = 'table'")
    if "recordings" not in {t["name"] for t in tables}:
        return []
    rows = read_rows(run.metrics, f"SELECT {', '.join(COLUMNS)} FROM recordings ORDER BY episode")
    try:
        return [{**row, "reasons": json.loads(row["reasons"])} for row in rows]
    except (TypeError, ValueError) as error:
        raise damaged(run.metrics, f"its recordings table holds {error}", reading=True) from None


def recording_file(run_dir: str | Path, row: dict[str, Any]) -> Path:
    """The file of a recordings row, refused (E314) when its path leads outside the run's
    ``recordings/`` folder."""
    folder = (Path(run_dir) / RECORDINGS).resolve()
    relative = row.get("path")
    path = (Path(run_dir) / str(relative)).resolve()
    if not isinstance(relative, str) or not path.is_relative_to(folder):
        raise RunError(
            Diagnostic(
                "E314",
                f"the recording of episode {row.get('episode')} points outside the run's "
                f"recordings folder ({relative!r}); it was not opened",
                hint="the run's metrics.sqlite was edited or damaged: restore it from a backup",
                file=str(Path(run_dir) / "metrics.sqlite"),
                path="recordings.path",
            )
        )
    return path


def load_recording(path: str | Path) -> Message:
    """An episode message from a recording file (E314 when it is missing or damaged)."""
    try:
        message = json.loads(gzip.decompress(Path(path).read_bytes()))
    except (OSError, EOFError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise RunError(
            Diagnostic(
                "E314",
                f"{path} is not a readable HAMLET recording ({reason})",
                hint="the other recordings of the run still play; record this one again "
                "with another run if you need it",
                file=str(path),
            )
        ) from None
    if not isinstance(message, dict) or message.get("type") != "episode":
        raise RunError(Diagnostic("E314", f"{path} holds no episode message", file=str(path)))
    return message

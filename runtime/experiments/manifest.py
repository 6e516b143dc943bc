"""A sweep's ``manifest.json``: what the sweep is, and where each of its runs stands.

Only the sweep's driver writes it, atomically, after every change of a run's status, so
a kill at any moment leaves a whole manifest; the run directories themselves (their
checkpoints and ``metrics.sqlite``) say how far each run got.

::

    {"format": "hamlet_sweep_v1", "name": ..., "spec": {...}, "created_at": ...,
     "runs": [{"id": "r000", "pack": "L0_0_minimal", "seed": 0,
               "settings": {"learning.learning_rate": 0.0001}, "group": ...,
               "run_dir": "runs/L0_0_minimal/r000", "status": "finished", ...}]}
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hamlet.runtime.files import write_atomically
from hamlet.schemas.errors import Diagnostic, RunError

FORMAT = "hamlet_sweep_v1"
MANIFEST = "manifest.json"
STATUSES = ("queued", "running", "finished", "interrupted", "failed")
KEYS = ("id", "pack", "seed", "settings", "run_dir", "status")
"""What every run of a manifest has."""


@dataclass
class Manifest:
    """A sweep folder's manifest, in memory; :meth:`save` writes it."""

    folder: Path
    data: dict[str, Any]

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST

    @property
    def runs(self) -> list[dict[str, Any]]:
        return self.data["runs"]

    def run(self, run_id: str) -> dict[str, Any]:
        return next(r for r in self.runs if r["id"] == run_id)

    def update(self, run_id: str, **fields: Any) -> None:
        """Change a run's entry (its ``status``, ``error``, figures) and save."""
        self.run(run_id).update(fields)
        self.save()

    def save(self) -> None:
        text = json.dumps(self.data, indent=2) + "\n"
        write_atomically(self.path, lambda handle: handle.write(text.encode()))

    def counts(self) -> dict[str, int]:
        return {s: sum(r["status"] == s for r in self.runs) for s in STATUSES}

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest of an existing sweep folder (E310 when there is none or it is not
        one HAMLET wrote)."""
        path = folder / MANIFEST
        if not path.is_file():
            raise _not_a_sweep(path, "there is no such file")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise _not_a_sweep(path, f"it cannot be read as JSON ({error})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise _not_a_sweep(path, f"it is not a {FORMAT} manifest")
        runs = data.get("runs")
        if not isinstance(runs, list) or not all(map(_is_entry, runs)):
            raise _not_a_sweep(path, f"its runs are not a list of entries with {', '.join(KEYS)}")
        return cls(folder, data)

    @classmethod
    def create(cls, folder: Path, name: str, spec: dict[str, Any], runs: list[dict]) -> Manifest:
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        data = {"format": FORMAT, "name": name, "created_at": now, "spec": spec, "runs": runs}
        manifest = cls(folder, data)
        manifest.save()
        return manifest


def _is_entry(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and all(key in entry for key in KEYS)
        and isinstance(entry["pack"], str)
        and isinstance(entry["run_dir"], str)
        and isinstance(entry["settings"], dict)
        and entry["status"] in STATUSES
    )


def _not_a_sweep(path: Path, why: str) -> RunError:
    return RunError(
        Diagnostic(
            "E310",
            f"{path} cannot be used: {why}",
            hint="hamlet sweep writes this file in each sweep's folder (sweeps/<name>): give "
            "such a folder, or run the sweep again to write it anew",
            file=str(path),
        )
    )

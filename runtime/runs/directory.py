"""A run directory, ``runs/<pack>/<YYYY-MM-DD_HHMMSS>/``: making one, opening one to go
on, finding its checkpoints and keeping only the newest.

It holds ``config/`` (a copy of the pack as it was, with the brain fully resolved),
``run.log``, ``metrics.sqlite``, ``checkpoints/`` (training and inference checkpoint
pairs) and, when the pack records episodes, ``recordings/``.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

from hamlet.compiler import CompiledBrain
from hamlet.runtime.files import check_writable, refused_writes, remove_temporary_files
from hamlet.runtime.model.checkpoint import (
    TrainingCheckpoint,
    inference_name,
    save_checkpoint,
    training_name,
)
from hamlet.runtime.model.migrate import TRAINING_FILE
from hamlet.schemas import Pack
from hamlet.schemas.errors import Diagnostic, RunError

PACK_FILES = ("brain.yaml", "training.yaml", "bars.yaml", "affordances.yaml", "cascades.yaml")
"""The files of a run's config snapshot (brain.yaml there is the resolved brain)."""
RUN_EXAMPLE = "runs/L1_full_observability/2026-01-01_120000"


@dataclass(frozen=True)
class RunDirectory:
    """The folder of one run, and where its parts are."""

    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.sqlite"

    @property
    def log(self) -> Path:
        return self.path / "run.log"

    @property
    def pack_name(self) -> str:
        """Runs live in ``<out>/<pack>/<stamp>/``: the pack's name is the parent's."""
        return self.path.resolve().parent.name

    @classmethod
    def create(
        cls,
        out: str | Path,
        pack: Pack,
        brain: CompiledBrain,
        texts: dict[str, str],
        name: str | None = None,
    ) -> RunDirectory:
        """A new run directory ``out/<pack>/<name>`` (``name`` defaults to the time) with
        the pack's config snapshot: ``texts`` (file name -> text, the ``--set`` settings
        written in), the resolved ``brain`` as its brain.yaml and the brain's text as
        brain.source.yaml (E313 if ``out`` is not writable, E310 if a named run exists)."""
        stamp = name or datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S")
        path = Path(out) / pack.name / stamp
        if name is not None and path.exists():
            raise RunError(
                Diagnostic(
                    "E310",
                    f"{path} exists already",
                    hint="resume it with --resume, or give the new run another name",
                    file=str(path),
                )
            )
        suffix = 1
        while path.exists():
            suffix += 1
            path = Path(out) / pack.name / f"{stamp}_{suffix}"
        run = cls(path)
        with refused_writes(path):
            run.config.mkdir(parents=True)
            for file in PACK_FILES[1:]:
                (run.config / file).write_text(texts[file])
            # The brain as the run saw it: fully resolved, so that the copy stands alone
            # even when the pack's brain extends a file elsewhere; the original beside it.
            (run.config / "brain.source.yaml").write_text(texts["brain.yaml"])
            header = (
                f"# The resolved brain of {pack.name} ({brain.spec_hash}): every default "
                "written\n# out and every size filled in. brain.source.yaml is the file it "
                "came from.\n"
            )
            text = header + json.dumps(brain.to_dict(), indent=2) + "\n"
            (run.config / "brain.yaml").write_text(text)
            run.checkpoints.mkdir()
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDirectory:
        """An existing run directory (E310 if ``path`` is not one)."""
        run = cls(Path(path))
        if not (run.config / "brain.yaml").is_file():
            what = "does not exist" if not run.path.exists() else "has no config/brain.yaml"
            inside = sorted(p for p in run.path.glob("*/config/brain.yaml"))
            hint = f"give the folder hamlet run created, e.g. {RUN_EXAMPLE}"
            if inside:  # a folder of runs, such as runs/<pack>
                hint = f"it holds {len(inside)} run(s); the newest is {inside[-1].parent.parent}"
            raise RunError(
                Diagnostic(
                    "E310", f"{run.path} is not a run directory (it {what})", hint=hint,
                    file=str(run.path),
                )
            )  # fmt: skip
        return run

    def check_writable(self) -> None:
        """E313 unless the run can write here (it is about to go on)."""
        for folder in (self.path, self.checkpoints):
            if folder.is_dir():
                check_writable(folder)

    def remove_temporary_files(self) -> list[Path]:
        """Delete what writes interrupted by a kill left behind; returns them."""
        return [
            *remove_temporary_files(self.checkpoints),
            *remove_temporary_files(self.path / "recordings"),
        ]

    def training_checkpoints(self) -> list[tuple[int, Path]]:
        """``(episode, path)`` of every training checkpoint, oldest first."""
        if not self.checkpoints.is_dir():
            return []
        return sorted(
            (int(m.group(1)), p)
            for p in self.checkpoints.glob("checkpoint_ep*.pt")
            if (m := TRAINING_FILE.fullmatch(p.name))
        )

    def latest_training_checkpoint(self) -> Path:
        """The training checkpoint of the highest episode (E310 if there is none)."""
        found = self.training_checkpoints()
        if not found:
            raise RunError(
                Diagnostic(
                    "E310",
                    f"{self.path} has no training checkpoint to resume from",
                    hint="a run writes one every checkpoint_every episodes and when it stops; "
                    "this run stopped before its first: start a new run",
                    file=str(self.checkpoints),
                )
            )
        return found[-1][1]

    def complete_pair(self, episode: int, state: TrainingCheckpoint) -> Path | None:
        """Write the inference checkpoint of ``episode`` from its training checkpoint if a
        kill came between the two writes; returns it when it had to be written."""
        path = self.checkpoints / inference_name(episode)
        if path.is_file():
            return None
        return save_checkpoint(state.inference(), path)

    def rotate(self, keep: int) -> None:
        """Keep the newest ``keep`` checkpoint pairs (0 keeps them all)."""
        if keep <= 0:
            return
        for episode, _ in self.training_checkpoints()[:-keep]:
            (self.checkpoints / training_name(episode)).unlink(missing_ok=True)
            (self.checkpoints / inference_name(episode)).unlink(missing_ok=True)


def newest_model(path: Path) -> Path:
    """``path`` itself, or the newest inference checkpoint of a run directory, of its
    ``checkpoints/`` folder, or of the newest run in a folder of runs."""
    if not path.is_dir():
        return path
    if path.name == "checkpoints" and not (path / "checkpoints").is_dir():
        run = path.parent
    else:
        runs = sorted(p for p in path.iterdir() if (p / "checkpoints").is_dir())
        run = path if (path / "checkpoints").is_dir() else (runs[-1] if runs else path)
    models = [(p.stem[len("model_ep") :], p) for p in (run / "checkpoints").glob("model_ep*.pt")]
    numbered = sorted((int(n), p) for n, p in models if n.isdigit())
    return numbered[-1][1] if numbered else path

"""A run directory, ``runs/<pack>/<YYYY-MM-DD_HHMMSS>/``: making one, finding its
checkpoints and keeping only the newest.

It holds ``config/`` (a copy of the pack as it was, with the brain fully resolved),
``run.log``, ``metrics.sqlite``, ``checkpoints/`` (training and inference checkpoint
pairs) and, when the pack records episodes, ``recordings/``.
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

from hamlet.compiler import compile_brain
from hamlet.runtime.model.checkpoint import inference_name, training_name
from hamlet.runtime.model.migrate import TRAINING_FILE
from hamlet.schemas import load_pack, observation_layout
from hamlet.schemas.errors import CheckpointError, Diagnostic

PACK_FILES = ("brain.yaml", "training.yaml", "bars.yaml", "affordances.yaml", "cascades.yaml")
"""The files of a run's config snapshot (brain.yaml there is the resolved brain)."""


def run_directory(
    pack_name: str | Path | None, out: str | Path, resume: str | Path | None
) -> tuple[Path, bool]:
    """The run directory to train in, and whether it is resumed: ``resume`` itself
    (checked), or a new ``out/<pack>/<stamp>/`` with the pack's config snapshot."""
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / "config" / "brain.yaml").is_file():
            raise CheckpointError(
                Diagnostic(
                    "E200",
                    f"{run_dir} is not a run directory (it has no config/brain.yaml)",
                    hint="give the folder hamlet run created, e.g. runs/L1_full_observability/"
                    "2026-01-01_120000",
                    file=str(run_dir),
                )
            )
        return run_dir, True
    pack = load_pack(pack_name)  # validates the pack before anything is created
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    run_dir = Path(out) / pack.name / stamp
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = Path(out) / pack.name / f"{stamp}_{suffix}"
    config = run_dir / "config"
    config.mkdir(parents=True)
    for name in PACK_FILES[1:]:
        shutil.copyfile(pack.directory / name, config / name)
    # The brain as the run saw it: fully resolved, so that the copy stands alone even
    # when the pack's brain extends a file elsewhere; the original text is kept beside.
    brain = compile_brain(pack.directory / "brain.yaml", layout=observation_layout(pack))
    shutil.copyfile(pack.directory / "brain.yaml", config / "brain.source.yaml")
    header = (
        f"# The resolved brain of {pack.name} ({brain.spec_hash}): every default written\n"
        "# out and every size filled in. brain.source.yaml is the file it came from.\n"
    )
    (config / "brain.yaml").write_text(header + json.dumps(brain.to_dict(), indent=2) + "\n")
    return run_dir, False


def latest_training_checkpoint(folder: Path) -> Path:
    """The training checkpoint of the highest episode in ``folder`` (E200 if none)."""
    found = sorted(
        (int(m.group(1)), p)
        for p in folder.glob("checkpoint_ep*.pt")
        if (m := TRAINING_FILE.fullmatch(p.name))
    )
    if not found:
        raise CheckpointError(
            Diagnostic("E200", f"no training checkpoint in {folder}", file=str(folder))
        )
    return found[-1][1]


def rotate_checkpoints(folder: Path, keep: int) -> None:
    """Keep the newest ``keep`` checkpoint pairs (0 keeps them all)."""
    if keep <= 0:
        return
    episodes = sorted(
        int(m.group(1))
        for p in folder.glob("checkpoint_ep*.pt")
        if (m := TRAINING_FILE.fullmatch(p.name))
    )
    for episode in episodes[:-keep]:
        (folder / training_name(episode)).unlink(missing_ok=True)
        (folder / inference_name(episode)).unlink(missing_ok=True)


def newest_model(path: Path) -> Path:
    """``path`` itself, or the newest inference checkpoint of a run directory, or of the
    newest run in a folder of runs."""
    if not path.is_dir():
        return path
    runs = sorted(p for p in path.iterdir() if (p / "checkpoints").is_dir())
    run = path if (path / "checkpoints").is_dir() else (runs[-1] if runs else path)
    models = sorted((run / "checkpoints").glob("model_ep*.pt"))
    return models[-1] if models else path

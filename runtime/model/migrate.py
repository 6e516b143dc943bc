"""``hamlet migrate``: inference checkpoints from training checkpoints (ours or the original's).

A training checkpoint carries the optimizer, the target network and the replay
memory; an inference checkpoint only what acting needs. Each
``checkpoint_epNNNNNN.pt`` gets a ``model_epNNNNNN.pt`` beside it. One that exists
already (the trainer writes both) is kept (:class:`Kept`) unless ``force`` asks to
replace it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hamlet.schemas.errors import CheckpointError, Diagnostic

from .checkpoint import inference_name
from .hamlet_model import HamletModel

TRAINING_FILE = re.compile(r"checkpoint_ep(\d+)\.pt")
MIGRATABLE = ("training_v2", "townlet_v2")


@dataclass(frozen=True)
class Migrated:
    source: Path
    target: Path
    replaced: bool = False
    """Whether a file was there before (only with ``force``)."""


@dataclass(frozen=True)
class Kept:
    """An inference checkpoint that was already there, left as it was (no ``force``)."""

    source: Path
    target: Path


def training_checkpoints(path: Path) -> list[Path]:
    """``path`` itself, or the training checkpoints in the folder ``path`` (sorted)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if TRAINING_FILE.fullmatch(p.name))
    if not path.exists():
        raise CheckpointError(Diagnostic("E200", f"no such file or folder: {path}", file=str(path)))
    return [path]


def migrate(
    path: str | Path, *, force: bool = False
) -> Iterator[Migrated | Kept | CheckpointError]:
    """Write an inference checkpoint beside each training checkpoint under ``path``;
    yields what was written, what was kept (an inference checkpoint that exists stays,
    unless ``force``), or the error of a file that could not be migrated."""
    for source in training_checkpoints(Path(path)):
        try:
            model = HamletModel.load(source)
            if model.source_format not in MIGRATABLE:
                raise CheckpointError(
                    Diagnostic(
                        "E203",
                        f"{source.name} is a {model.source_format} file, not a training checkpoint",
                        hint="hamlet migrate converts checkpoint_ep*.pt training checkpoints",
                        file=str(source),
                    )
                )
            match = TRAINING_FILE.fullmatch(source.name)
            episode = model.metadata.get("episode")
            if episode is None and match:
                episode = int(match.group(1))
            target = source.with_name(inference_name(int(episode or 0)))
            existed = target.exists() or target.is_symlink()
            if existed and not force:
                yield Kept(source, target)
                continue
            model.save(target, migrated_from=source.name)
            yield Migrated(source, target, replaced=existed)
        except CheckpointError as error:
            yield error

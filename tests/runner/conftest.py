"""A tiny config pack (short episodes, small replay) so that whole runs take seconds."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from hamlet.configs import pack_dir


def tiny_pack(folder: Path, source: str = "L0_0_minimal", **curriculum: str) -> Path:
    """A copy of ``source`` with 40-step episodes and a small, quick learner."""
    pack = folder / f"tiny_{source}"
    shutil.copytree(pack_dir(source), pack)
    training = (pack / "training.yaml").read_text()
    training = re.sub(r"max_steps_per_episode: \d+", "max_steps_per_episode: 40", training)
    for key, value in curriculum.items():
        training = re.sub(rf"(?m)^(  {key}:) [^#\n]+", rf"\1 {value}", training)
    (pack / "training.yaml").write_text(training)
    brain = (pack / "brain.yaml").read_text()
    brain = brain.replace("batch_size: 64", "batch_size: 16").replace(
        "batch_size: 16  ", "batch_size: 8  "
    )
    brain = re.sub(r"learning_starts: \d+", "learning_starts: 16", brain)
    brain = re.sub(r"capacity: \d+", "capacity: 400", brain)
    if "extends: ../" in brain:  # L3 extends L2 by path: point at the shipped file
        brain = brain.replace("extends: ../", f"extends: {pack_dir(source).parent}/")
    (pack / "brain.yaml").write_text(brain)
    return pack


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return tiny_pack(tmp_path)

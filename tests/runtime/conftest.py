"""What the runtime tests share: brains of every head variant, a tiny config pack whose
whole runs take seconds, and the stream schema."""

from __future__ import annotations

import copy
import itertools
import json
import re
import shutil
from pathlib import Path

import pytest

from hamlet.compiler import brain_from_data, compile_brain, load_brain
from hamlet.configs import pack_dir
from hamlet.runtime import HamletModel

from ..conftest import FULL_L1, PARTIAL_L2

HEAD_COMBOS = list(itertools.product([False, True], repeat=3))
TRUNKS = {"simple_q": FULL_L1, "recurrent_spatial_q": PARTIAL_L2}
ROOT = Path(__file__).resolve().parents[2]
STREAM_SCHEMA = json.loads((ROOT / "schemas" / "stream.schema.json").read_text())


def variant_model(builtin: str, dueling: bool, distributional: bool, noisy: bool, seed: int = 0):
    """A HamletModel of a built-in trunk with the given head options."""
    data = copy.deepcopy(load_brain(builtin).doc.data)
    head = next(n for n, node in data["network"].items() if node["kind"] == "q_head")
    data["network"][head].update(
        dueling=dueling,
        distributional={"atoms": 11, "v_min": -5.0, "v_max": 5.0} if distributional else False,
        noisy={"sigma0": 0.4} if noisy else False,
    )
    brain = compile_brain(brain_from_data(data), layout=TRUNKS[builtin])
    return HamletModel.from_spec(brain, seed=seed)


@pytest.fixture(scope="session")
def simple_model() -> HamletModel:
    return HamletModel.from_spec("simple_q", layout=FULL_L1, seed=0)


@pytest.fixture(scope="session")
def recurrent_model() -> HamletModel:
    return HamletModel.from_spec("recurrent_spatial_q", layout=PARTIAL_L2, seed=0)


def tiny_pack(folder: Path, source: str = "L0_0_minimal", **curriculum: str) -> Path:
    """A copy of ``source`` with 40-step episodes, one agent and a small, quick learner."""
    pack = folder / f"tiny_{source}"
    shutil.copytree(pack_dir(source), pack)
    training = (pack / "training.yaml").read_text()
    training = re.sub(r"max_steps_per_episode: \d+", "max_steps_per_episode: 40", training)
    training = re.sub(r"(?m)^  agents: \d+", "  agents: 1", training)
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


class FakeTime:
    """A stand-in for ``time.perf_counter``: it moves only when a test moves ``now``."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

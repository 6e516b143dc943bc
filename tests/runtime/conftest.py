"""Brains and checkpoints shared by the runtime tests."""

from __future__ import annotations

import copy
import itertools

import pytest

from hamlet.compiler import brain_from_data, compile_brain, load_brain
from hamlet.runtime import HamletModel

from ..conftest import FULL_L1, PARTIAL_L2

HEAD_COMBOS = list(itertools.product([False, True], repeat=3))
TRUNKS = {"simple_q": FULL_L1, "recurrent_spatial_q": PARTIAL_L2}


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

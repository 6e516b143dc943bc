"""Pinned output of every built-in and pack brain: the generated source and the summary.

A change here is a change to what students see and to the networks they train;
update with ``pytest --snapshot-update`` only after reading the diff.
"""

from __future__ import annotations

import pytest
import torch

from hamlet.compiler import compile_brain
from hamlet.compiler.summary import format_table, summarize
from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import load_pack, observation_layout

# each built-in is shown in the world its original network was made for
BUILTINS = {"simple_q": "L1_full_observability", "recurrent_spatial_q": "L2_partial_observability"}
CASES = [(name, world) for name, world in BUILTINS.items()] + [
    (str(pack_dir(p) / "brain.yaml"), p) for p in PACK_NAMES
]
IDS = list(BUILTINS) + list(PACK_NAMES)


@pytest.fixture(params=CASES, ids=IDS)
def compiled(request):
    brain, world = request.param
    layout = observation_layout(load_pack(pack_dir(world)))
    return compile_brain(brain, layout=layout), world


def test_generated_source(compiled, snapshot):
    brain, _ = compiled
    assert brain.source == snapshot


def test_summary_table(compiled, snapshot):
    brain, world = compiled
    torch.manual_seed(0)
    assert format_table(brain, summarize(brain, brain.instantiate()), world=world) == snapshot

"""Each config pack's brain compiles against its own world, as the levels require."""

from __future__ import annotations

import pytest
import torch

from hamlet.compiler import compile_brain
from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import load_pack, observation_layout

EXPECTED = {
    "L0_0_minimal": (36, None),
    "L0_5_dual_resource": (76, None),
    "L1_full_observability": (91, None),
    "L2_partial_observability": (54, "lstm"),
    "L3_temporal_mechanics": (54, "lstm"),
}


@pytest.mark.parametrize("pack", PACK_NAMES)
def test_pack_brain_compiles_for_its_world(pack):
    layout = observation_layout(load_pack(pack_dir(pack)))
    brain = compile_brain(pack_dir(pack) / "brain.yaml", layout=layout)
    module = brain.instantiate()
    obs_dim, recurrent = EXPECTED[pack]
    assert (module.obs_dim, module.num_actions, module.recurrent) == (obs_dim, 6, recurrent)
    assert brain.resolved.spec.name == pack
    assert not brain.warnings


def test_l3_sees_the_clock_and_l2_does_not():
    layout = observation_layout(load_pack(pack_dir("L3_temporal_mechanics")))
    l3 = compile_brain(pack_dir("L3_temporal_mechanics") / "brain.yaml", layout=layout)
    l2 = compile_brain(pack_dir("L2_partial_observability") / "brain.yaml", layout=layout)
    reads = {i.ref for node in l3.resolved.nodes for i in node.inputs}
    assert "obs.temporal" in reads
    assert "obs.temporal" not in {i.ref for node in l2.resolved.nodes for i in node.inputs}
    assert l3.to_dict()["network"]["lstm"]["input_size"] == 224 + 16

    # changing only the temporal features changes the L3 agent's Q-values
    module = l3.instantiate()
    obs = torch.zeros(1, 54)
    later = obs.clone()
    later[0, 50:52] = torch.tensor([1.0, 0.0])  # 6 o'clock instead of midnight
    h, c = module.initial_state(1)
    assert not torch.allclose(module(obs, h, c)[0], module(later, h, c)[0])


def test_pack_brains_override_learning_of_their_builtin():
    l1 = compile_brain(
        pack_dir("L1_full_observability") / "brain.yaml",
        layout=observation_layout(load_pack(pack_dir("L1_full_observability"))),
    )
    learning = l1.to_dict()["learning"]
    assert (learning["learning_rate"], learning["gamma"], learning["replay"]["capacity"]) == (
        0.00025,
        0.99,
        10000,
    )
    # the network itself is the built-in's
    assert l1.to_dict()["network"]["net"]["hidden"] == [128, 128]

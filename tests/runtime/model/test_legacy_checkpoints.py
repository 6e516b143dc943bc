"""Files without a HAMLET spec still load: the original system's checkpoints, bare
state_dicts and seed 004's layout. Architectures are read off the tensors."""

from __future__ import annotations

import time

import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.cli import main
from hamlet.schemas import CheckpointError

from ...compiler.test_legacy_networks import RecurrentSpatialQNetwork, SimpleQNetwork
from ...conftest import ACROSS_KERNELS
from ..conftest import HEAD_COMBOS, variant_model

pytestmark = pytest.mark.numeric  # run again on other CPU kernels by .ci/run


def original_checkpoint(network: torch.nn.Module, network_type: str, **environment) -> dict:
    """A version-2 training checkpoint laid out as townlet-facts §5.2 describes."""
    optimizer = torch.optim.Adam(network.parameters(), lr=2.5e-4)
    for parameter in network.parameters():  # one real step, so that Adam has state
        parameter.grad = torch.ones_like(parameter)
    optimizer.step()
    meters = ["energy", "hygiene", "satiation", "money", "mood", "social", "health", "fitness"]
    return {
        "version": 2,
        "episode": 1200,
        "timestamp": time.time(),
        "population_state": {
            "version": 2,
            "q_network": network.state_dict(),
            "optimizer": optimizer.state_dict(),
            "total_steps": 51234,
            "exploration_state": {
                "rnd_state": {"epsilon": 0.3, "epsilon_min": 0.01, "epsilon_decay": 0.995},
                "current_intrinsic_weight": 0.8,
                "survival_history": [120, 130],
            },
            "universe_metadata": {
                "meter_count": 8,
                "meter_names": meters,
                "version": "1.0",
                "obs_dim": 91,
                "action_dim": 5,  # the original's bug (§6.24): there are 6 actions
            },
            "target_network": network.state_dict(),
            "training_step_counter": 12800,
            "replay_buffer": {"size": 2, "observations": torch.zeros(2, 3)},
        },
        "curriculum_state": {
            "agent_stages": torch.tensor([1]),
            "steps_at_stage": torch.tensor([40]),
        },
        "affordance_layout": {"positions": {"Bed": [1, 2]}, "ordering": ["Bed"]},
        "agent_ids": ["agent_0"],
        "epsilon": 0.3,
        "training_config": {
            "population": {
                "network_type": network_type,
                "learning_rate": 0.00025,
                "gamma": 0.99,
                "replay_buffer_capacity": 10000,
            },
            "environment": environment,
            "training": {
                "batch_size": 64,
                "train_frequency": 4,
                "target_update_frequency": 100,
                "max_grad_norm": 10.0,
            },
        },
        "config_dir": "configs/L1_full_observability",
    }


def test_original_simple_checkpoint_loads_into_simple_q(tmp_path):
    torch.manual_seed(0)
    reference = SimpleQNetwork(91, 6)
    path = tmp_path / "checkpoint_ep01200.pt"
    torch.save(original_checkpoint(reference, "simple", grid_size=8), path)
    model = HamletModel.load(path)
    assert model.source_format == "townlet_v2"
    assert (model.obs_dim, model.num_actions) == (91, 6)
    assert [f.name for f in model.layout.fields] == ["grid", "meters", "affordance", "temporal"]
    assert model.metadata["episode"] == 1200 and model.metadata["curriculum_stage"] == 1
    assert model.metadata["meter_names"][6] == "health"
    assert model.spec["learning"]["learning_rate"] == 0.00025
    obs = torch.randn(8, 91, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.predict(obs)["q_values"], reference(obs), **ACROSS_KERNELS)


def test_original_recurrent_checkpoint_loads_and_steps_like_the_original(tmp_path):
    torch.manual_seed(1)
    reference = RecurrentSpatialQNetwork(actions=6, window=5, meters=8)
    path = tmp_path / "checkpoint_ep01200.pt"
    torch.save(original_checkpoint(reference, "recurrent", vision_range=2), path)
    model = HamletModel.load(path)
    assert model.is_recurrent and model.obs_dim == 54
    gen = torch.Generator().manual_seed(3)
    hidden, h, c = None, torch.zeros(1, 2, 256), torch.zeros(1, 2, 256)
    for _ in range(5):
        obs = torch.randn(2, 54, generator=gen)
        result = model.predict(obs, hidden)
        q_ref, h, c = reference(obs, h, c)
        torch.testing.assert_close(result["q_values"], q_ref, **ACROSS_KERNELS)
        hidden = result["hidden"]


def test_original_checkpoint_whose_type_contradicts_its_weights(tmp_path):
    data = original_checkpoint(SimpleQNetwork(91, 6), "simple")
    data["training_config"]["population"]["network_type"] = "recurrent"
    torch.save(data, tmp_path / "c.pt")
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(tmp_path / "c.pt")
    assert info.value.code == "E207"


@pytest.mark.parametrize("combo", HEAD_COMBOS, ids=str)
@pytest.mark.parametrize("trunk", ["simple_q", "recurrent_spatial_q"])
def test_bare_state_dicts_of_every_builtin_variant(tmp_path, trunk, combo):
    original = variant_model(trunk, *combo)
    torch.save(original.module.state_dict(), tmp_path / "weights.pt")
    model = HamletModel.load(tmp_path / "weights.pt")
    assert model.source_format == "state_dict"
    obs = torch.randn(3, original.obs_dim, generator=torch.Generator().manual_seed(0))
    head = model.brain.resolved.head_spec
    assert (head.dueling, bool(head.distributional), bool(head.noisy)) == combo
    if combo[1]:  # C51's v_min/v_max are not in the weights: compare the distributions
        mine, theirs = (m.predict(obs, return_distribution=True) for m in (model, original))
        torch.testing.assert_close(mine["distribution"], theirs["distribution"])
    else:
        torch.testing.assert_close(
            model.predict(obs)["q_values"], original.predict(obs)["q_values"]
        )


def test_bare_state_dict_of_something_else_is_explained(tmp_path):
    torch.save({"encoder.weight": torch.zeros(3, 3)}, tmp_path / "w.pt")
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(tmp_path / "w.pt")
    assert info.value.code == "E207" and "built-in" in info.value.hint


def test_seed_004_layout_with_model_config(tmp_path):
    original = variant_model("simple_q", True, True, False)
    data = {
        "model_state_dict": original.module.state_dict(),
        "model_config": {
            "n_action": 6,
            "dueling_dqn": True,
            "distributional_dqn": True,
            "noisy_networks": False,
            "n_atoms": 11,
            "v_min": -5.0,
            "v_max": 5.0,
        },
        "training_info": {"episode_idx": 42, "frame_idx": 9000},
        "version": "2.0",
    }
    torch.save(data, tmp_path / "model.pt")
    model = HamletModel.load(tmp_path / "model.pt")
    assert model.source_format == "model_config" and model.metadata["episode"] == 42
    obs = torch.randn(3, 91, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.predict(obs)["q_values"], original.predict(obs)["q_values"])
    data["model_config"]["dueling_dqn"] = False
    torch.save(data, tmp_path / "lying.pt")
    with pytest.raises(CheckpointError):
        HamletModel.load(tmp_path / "lying.pt")


def test_migrate_writes_inference_checkpoints_beside_training_ones(tmp_path, capsys):
    torch.manual_seed(0)
    reference = SimpleQNetwork(91, 6)
    torch.save(
        original_checkpoint(reference, "simple", grid_size=8), tmp_path / "checkpoint_ep01200.pt"
    )
    (tmp_path / "notes.txt").write_text("ignored")
    assert main(["migrate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "model_ep001200.pt (from checkpoint_ep01200.pt)" in out
    migrated = HamletModel.load(tmp_path / "model_ep001200.pt")
    assert migrated.source_format == "inference_v1"
    assert migrated.metadata["migrated_from"] == "checkpoint_ep01200.pt"
    obs = torch.randn(2, 91)
    torch.testing.assert_close(migrated.predict(obs)["q_values"], reference(obs), **ACROSS_KERNELS)
    size_ratio = (tmp_path / "checkpoint_ep01200.pt").stat().st_size / (
        tmp_path / "model_ep001200.pt"
    ).stat().st_size
    assert size_ratio > 2  # optimizer and target network are left behind


def test_migrate_reports_files_it_cannot_convert(tmp_path, capsys):
    (tmp_path / "checkpoint_ep000001.pt").write_text("garbage")
    assert main(["migrate", str(tmp_path)]) == 1
    assert "error[E201]" in capsys.readouterr().err

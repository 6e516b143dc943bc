"""Checkpoints: self-describing, safe to load, atomic to write, clear when broken."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.model import HashMismatchWarning
from hamlet.runtime.model.checkpoint import (
    InferenceCheckpoint,
    TrainingCheckpoint,
    load_training_checkpoint,
    read_file,
    save_checkpoint,
)
from hamlet.schemas import CheckpointError


def _obs(model: HamletModel, batch: int = 5) -> torch.Tensor:
    return torch.randn(batch, model.obs_dim, generator=torch.Generator().manual_seed(9))


def test_inference_checkpoint_round_trip(tmp_path, recurrent_model):
    path = recurrent_model.save(tmp_path / "model_ep000100.pt", episode=100, epsilon=0.2,
                                curriculum_stage=3, pack="L2_partial_observability")  # fmt: skip
    raw = read_file(path)
    assert raw["format_version"] == "inference_v1"
    assert raw["brain_spec_hash"] == recurrent_model.spec_hash
    assert raw["brain_spec"]["network"]["lstm"]["hidden_size"] == 256
    meta = raw["metadata"]
    assert (meta["episode"], meta["epsilon"], meta["curriculum_stage"]) == (100, 0.2, 3)
    assert meta["action_names"][4] == "INTERACT"
    assert meta["observation_layout"]["fields"][0] == {"name": "grid", "shape": [5, 5]}
    assert meta["hamlet_version"] == "0.1.0" and raw["created_at"].endswith("+00:00")

    loaded = HamletModel.load(path)
    assert loaded.source_format == "inference_v1" and loaded.spec_hash == recurrent_model.spec_hash
    obs = _obs(loaded)
    assert torch.equal(loaded.predict(obs)["q_values"], recurrent_model.predict(obs)["q_values"])


def test_training_checkpoint_loads_its_online_network(tmp_path, simple_model):
    online = simple_model.module.state_dict()
    target = {k: torch.zeros_like(v) for k, v in online.items()}
    optimizer = torch.optim.Adam(simple_model.module.parameters()).state_dict()
    checkpoint = TrainingCheckpoint(
        brain_spec=simple_model.spec,
        brain_spec_hash=simple_model.spec_hash,
        online=online,
        target=target,
        optimizer=optimizer,
        counters={"episode": 7, "total_steps": 700, "gradient_steps": 170},
        config={"training.yaml": "version: 1\n"},
        replay={"observations": torch.zeros(3, 91)},
    )
    path = save_checkpoint(checkpoint, tmp_path / "checkpoint_ep000007.pt")
    raw = read_file(path)
    assert raw["format_version"] == "training_v2" and raw["counters"]["gradient_steps"] == 170
    assert set(raw) >= {
        "online",
        "target",
        "optimizer",
        "replay",
        "rng",
        "curriculum",
        "exploration",
    }
    model = HamletModel.load(path)
    assert model.source_format == "training_v2" and model.metadata["episode"] == 7
    obs = _obs(model)
    assert torch.equal(model.predict(obs)["q_values"], simple_model.predict(obs)["q_values"])
    assert checkpoint.inference().state_dict is online

    back = load_training_checkpoint(path)
    assert back.counters == checkpoint.counters and back.config == checkpoint.config
    assert torch.equal(back.replay["observations"], torch.zeros(3, 91)) and back.rng is None
    assert all(torch.equal(back.target[k], v) for k, v in target.items())
    with pytest.raises(CheckpointError) as info:
        load_training_checkpoint(simple_model.save(tmp_path / "model.pt"))
    assert info.value.code == "E203"
    payload = checkpoint.payload()
    del payload["optimizer"]
    torch.save(payload, tmp_path / "broken.pt")
    with pytest.raises(CheckpointError) as info:
        load_training_checkpoint(tmp_path / "broken.pt")
    assert (info.value.code, info.value.path) == ("E204", "optimizer")


def test_loading_onto_a_device_and_without_paying_for_initialisation(tmp_path, simple_model):
    path = simple_model.save(tmp_path / "m.pt")
    model = HamletModel.load(path, device="cpu")
    assert model.device == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in model.module.parameters())


def test_pickled_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "payload_ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    torch.save({"format_version": "inference_v1", "state_dict": {}, "x": Payload()}, path)
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(path)
    assert info.value.code == "E202"
    assert "refused" in str(info.value)
    assert not marker.exists()


def test_truncated_and_foreign_files_are_corrupt(tmp_path, simple_model):
    good = simple_model.save(tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    for path in (truncated, text):
        with pytest.raises(CheckpointError) as info:
            HamletModel.load(path)
        assert info.value.code == "E201", path
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(tmp_path / "missing.pt")
    assert info.value.code == "E200" and isinstance(info.value, ValueError)


def test_unknown_format_version(tmp_path):
    torch.save({"format_version": "inference_v9", "state_dict": {}}, tmp_path / "m.pt")
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(tmp_path / "m.pt")
    assert info.value.code == "E203" and "inference_v9" in str(info.value)
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(tmp_path / "other.pt")
    assert info.value.code == "E203"


def test_missing_entry(tmp_path, simple_model):
    payload = simple_model.checkpoint().payload()
    del payload["state_dict"]
    torch.save(payload, tmp_path / "m.pt")
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(tmp_path / "m.pt")
    assert (info.value.code, info.value.path) == ("E204", "state_dict")


def test_tensor_mismatches_are_listed_sorted(tmp_path, simple_model):
    checkpoint = simple_model.checkpoint()
    weights = dict(checkpoint.state_dict)
    del weights["net.6.bias"], weights["net.0.bias"]
    weights["net.9.weight"] = torch.zeros(2)
    weights["net.3.weight"] = torch.zeros(5, 5)
    checkpoint.state_dict = weights
    save_checkpoint(checkpoint, tmp_path / "m.pt")
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(tmp_path / "m.pt")
    message = info.value.errors[0].message
    assert info.value.code == "E205"
    assert "missing: net.0.bias, net.6.bias" in message
    assert "unexpected: net.9.weight" in message
    assert "mis-shaped: net.3.weight [5, 5] (network: [128, 128])" in message


def test_hash_mismatch_is_an_error_unless_allowed(tmp_path, simple_model):
    checkpoint = simple_model.checkpoint()
    checkpoint.brain_spec_hash = "sha256:" + "0" * 64
    path = save_checkpoint(checkpoint, tmp_path / "m.pt")
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(path)
    assert info.value.code == "E206" and "allow_hash_mismatch" in info.value.hint
    with pytest.warns(HashMismatchWarning) as caught:
        model = HamletModel.load(path, allow_hash_mismatch=True)
    assert model.spec_hash == simple_model.spec_hash
    assert caught[0].message.diagnostic.severity == "warning"


def test_cli_shows_an_allowed_hash_mismatch_as_a_warning(tmp_path, simple_model, capsys):
    from hamlet.runtime.cli import main

    checkpoint = simple_model.checkpoint()
    checkpoint.brain_spec_hash = "sha256:" + "0" * 64
    path = save_checkpoint(checkpoint, tmp_path / "m.pt")
    assert main(["inspect", str(path), "--allow-hash-mismatch"]) == 0
    captured = capsys.readouterr()
    assert "warning[E206]" in captured.err and "loaded anyway" in captured.err
    assert "HashMismatchWarning" not in captured.err and "format       inference_v1" in captured.out


def test_an_edited_spec_is_caught_by_its_hash(tmp_path, simple_model):
    checkpoint = simple_model.checkpoint()
    checkpoint.brain_spec = {**checkpoint.brain_spec, "description": "edited by hand"}
    path = save_checkpoint(checkpoint, tmp_path / "m.pt")
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(path)
    assert info.value.code == "E206"


def test_network_params_fallback(tmp_path, simple_model):
    checkpoint = InferenceCheckpoint(
        state_dict=simple_model.checkpoint().state_dict,
        brain_spec=None,
        brain_spec_hash=None,
        metadata={"episode": 3},
        network_params={"network_type": "simple", "obs_dim": 91, "action_dim": 6},
    )
    path = save_checkpoint(checkpoint, tmp_path / "m.pt")
    assert "brain_spec" not in read_file(path)
    model = HamletModel.load(path)
    obs = _obs(model)
    assert torch.equal(model.predict(obs)["q_values"], simple_model.predict(obs)["q_values"])
    checkpoint.network_params = {"network_type": "recurrent", "action_dim": 6}
    save_checkpoint(checkpoint, tmp_path / "wrong.pt")
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(tmp_path / "wrong.pt")
    assert info.value.code == "E207"


def test_a_crash_mid_save_leaves_no_file_under_the_final_name(tmp_path, simple_model, monkeypatch):
    path = tmp_path / "model_ep000001.pt"
    simple_model.save(path, episode=1)
    before = path.read_bytes()

    def crash(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        simple_model.save(path, episode=2)
    with pytest.raises(KeyboardInterrupt):
        simple_model.save(tmp_path / "model_ep000002.pt", episode=2)
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert not (tmp_path / "model_ep000002.pt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["model_ep000001.pt"]  # no temp files left


def test_loading_never_unpickles_with_weights_only_off():
    source = Path(__file__).resolve().parents[3] / "runtime"
    loads = 0
    for file in source.rglob("*.py"):
        for line in file.read_text().splitlines():
            if "torch.load(" in line:
                loads += 1
                assert "weights_only=True" in line, f"{file.name}: {line.strip()}"
    assert loads >= 3  # the checkpoint reader, export verification, the standalone check


def test_no_warnings_on_a_normal_load(tmp_path, recurrent_model):
    path = recurrent_model.save(tmp_path / "m.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        HamletModel.load(path)


def test_migrate_turns_our_training_checkpoints_into_inference_ones(tmp_path, simple_model):
    from hamlet.runtime.cli import main

    online = simple_model.module.state_dict()
    checkpoint = TrainingCheckpoint(
        brain_spec=simple_model.spec,
        brain_spec_hash=simple_model.spec_hash,
        online=online,
        target=online,
        optimizer=torch.optim.Adam(simple_model.module.parameters()).state_dict(),
        counters={"episode": 300, "total_steps": 1, "gradient_steps": 1},
        config={},
        metadata={"epsilon": 0.4, "pack": "L1_full_observability"},
    )
    save_checkpoint(checkpoint, tmp_path / "checkpoint_ep000300.pt")
    assert main(["migrate", str(tmp_path / "checkpoint_ep000300.pt")]) == 0
    migrated = HamletModel.load(tmp_path / "model_ep000300.pt")
    assert migrated.source_format == "inference_v1"
    assert (migrated.metadata["episode"], migrated.metadata["epsilon"]) == (300, 0.4)
    obs = _obs(migrated)
    assert torch.equal(migrated.predict(obs)["q_values"], simple_model.predict(obs)["q_values"])

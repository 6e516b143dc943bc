"""Nothing in a checkpoint is trusted: every entry is typed, the weights hashed and
finite, and every file a user can hand over gives a coded error, never a traceback."""

from __future__ import annotations

import doctest
import os
import warnings
import zipfile
from pathlib import Path

import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.cli import main
from hamlet.runtime.export import weights_digest
from hamlet.runtime.model import (
    HashMismatchWarning,
    WeightsConvertedWarning,
    check_affordance_layout,
)
from hamlet.runtime.model.checkpoint import (
    TrainingCheckpoint,
    load_training_checkpoint,
    read_file,
    save_checkpoint,
)
from hamlet.runtime.model.migrate import Kept, migrate
from hamlet.schemas import CheckpointError, HamletError

from ...compiler.test_legacy_networks import SimpleQNetwork
from .crafted import (
    PLACEHOLDER,
    SHAPE_MARK,
    cyclic_list,
    deep_dict,
    deep_list,
    save_patched,
    stored_record,
    with_shape,
)
from .test_legacy_checkpoints import original_checkpoint


def _error(path: Path, **kwargs) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        HamletModel.load(path, **kwargs)
    return info.value


def _saved(tmp_path: Path, payload: dict, name: str = "m.pt") -> Path:
    torch.save(payload, tmp_path / name)
    return tmp_path / name


def _training(model: HamletModel, **changes) -> TrainingCheckpoint:
    weights = model.module.state_dict()
    checkpoint = TrainingCheckpoint(
        brain_spec=model.spec,
        brain_spec_hash=model.spec_hash,
        online=weights,
        target={k: v.clone() for k, v in weights.items()},
        optimizer=torch.optim.Adam(model.module.parameters()).state_dict(),
        counters={"episode": 7, "env_steps": 700, "gradient_steps": 170},
        config={"training.yaml": "version: 1\n"},
        metadata={"pack": "L1_full_observability", "affordance_layout": {"Bed": [1, 2]}},
        rng={"torch": torch.get_rng_state()},
    )
    for key, value in changes.items():
        setattr(checkpoint, key, value)
    return checkpoint


# --- entries of the wrong type ---------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "value", "path"),
    [
        ("metadata", "a string", "metadata"),
        ("metadata", torch.zeros(3), "metadata"),
        ("metadata", [1, 2], "metadata"),
        ("metadata", {1: "x"}, "metadata"),
        ("metadata", {"pack": 3}, "metadata.pack"),
        ("metadata", {"episode": "ten"}, "metadata.episode"),
        ("metadata", {"epsilon": 1.5}, "metadata.epsilon"),
        ("metadata", {"action_names": ["UP", 4]}, "metadata.action_names[1]"),
        ("metadata", {"note": torch.zeros(2)}, "metadata.note"),
        ("state_dict", "weights", "state_dict"),
        ("brain_spec", [1], "brain_spec"),
        ("brain_spec_hash", 3, "brain_spec_hash"),
        ("weights_digest", 3, "weights_digest"),
        ("created_at", 5, "created_at"),
    ],
    ids=str,
)
def test_an_entry_of_the_wrong_type_is_named(tmp_path, simple_model, entry, value, path):
    payload = simple_model.checkpoint().payload()
    payload[entry] = value
    error = _error(_saved(tmp_path, payload))
    assert (error.code, error.path) == ("E204", path)


def test_weights_that_are_not_tensors_are_named(tmp_path, simple_model):
    payload = simple_model.checkpoint().payload()
    payload["state_dict"]["net.3.bias"] = 7
    error = _error(_saved(tmp_path, payload))
    assert (error.code, error.path) == ("E204", "state_dict.net.3.bias")
    assert "is 7; weights are tensors" in error.errors[0].message


@pytest.mark.parametrize(
    ("opcodes", "path", "says"),
    [
        (deep_list(200_000), "metadata", "is a list"),
        (deep_dict(200_000), "metadata.k.k", "nests more than 32 deep"),
        (cyclic_list(), "metadata.self[0]", "contains itself"),
    ],
    ids=["list-200k-deep", "dict-200k-deep", "cyclic"],
)
def test_deep_and_cyclic_entries_are_refused_without_recursion(
    tmp_path, simple_model, opcodes, path, says
):
    payload = simple_model.checkpoint().payload()
    payload["metadata"] = {"self": PLACEHOLDER} if says == "contains itself" else PLACEHOLDER
    error = _error(save_patched(payload, tmp_path / "m.pt", opcodes))
    assert error.code == "E204" and error.path.startswith(path) and says in str(error)


def test_a_shared_entry_cannot_expand_into_exponential_work(tmp_path, simple_model):
    shared: list = [1]
    for _ in range(40):  # 2**40 values when walked naively; a few kB in the file
        shared = [shared, shared]
    payload = simple_model.checkpoint().payload()
    payload["metadata"] = {"note": shared}
    error = _error(_saved(tmp_path, payload))
    assert error.code == "E204" and "more than" in str(error)


# --- dtypes -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_other_float_dtypes_are_converted_with_a_warning(tmp_path, simple_model, dtype):
    payload = simple_model.checkpoint().payload()
    payload["state_dict"] = {k: v.to(dtype) for k, v in payload["state_dict"].items()}
    payload["weights_digest"] = weights_digest(payload["state_dict"])
    with pytest.warns(WeightsConvertedWarning) as caught:
        model = HamletModel.load(_saved(tmp_path, payload))
    diagnostic = caught[0].message.diagnostic
    assert (diagnostic.code, diagnostic.severity) == ("E205", "warning")
    assert str(dtype).removeprefix("torch.") in diagnostic.message
    assert all(p.dtype == torch.float32 for p in model.module.parameters())
    expected = {k: v.to(dtype).float() for k, v in simple_model.module.state_dict().items()}
    assert all(torch.equal(v, expected[k]) for k, v in model.module.state_dict().items())


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64])
def test_integer_boolean_and_complex_weights_are_refused(tmp_path, simple_model, dtype):
    payload = simple_model.checkpoint().payload()
    payload["state_dict"] = {k: v.to(dtype) for k, v in payload["state_dict"].items()}
    payload["weights_digest"] = weights_digest(payload["state_dict"])
    error = _error(_saved(tmp_path, payload))
    assert (error.code, error.path) == ("E205", "state_dict.net.0.bias")
    assert f"is {str(dtype).removeprefix('torch.')}; the network needs float32" in str(error)


def test_a_float64_value_beyond_float32_is_not_finite_once_converted(tmp_path, simple_model):
    payload = simple_model.checkpoint().payload()
    weights = {k: v.double() for k, v in payload["state_dict"].items()}
    weights["net.0.bias"][0] = 1e300
    payload["state_dict"], payload["weights_digest"] = weights, weights_digest(weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeightsConvertedWarning)
        error = _error(_saved(tmp_path, payload))
    assert (error.code, error.path) == ("E209", "state_dict.net.0.bias")


# --- the weights digest and finite values ------------------------------------------------


def test_a_flipped_byte_in_the_weights_is_caught_by_their_digest(tmp_path, simple_model):
    path = simple_model.save(tmp_path / "m.pt")
    assert read_file(path)["weights_digest"] == weights_digest(simple_model.module.state_dict())
    offset, size = stored_record(path)
    raw = bytearray(path.read_bytes())
    raw[offset + size // 2] ^= 0x10
    path.write_bytes(bytes(raw))
    error = _error(path)
    assert (error.code, error.path) == ("E208", "weights_digest")
    assert "allow_hash_mismatch" in error.hint
    with pytest.warns(HashMismatchWarning) as caught:
        HamletModel.load(path, allow_hash_mismatch=True)
    assert caught[0].message.diagnostic.code == "E208"


def test_the_digest_covers_names_dtypes_and_shapes(simple_model):
    weights = simple_model.checkpoint().state_dict
    digest = weights_digest(weights)
    renamed = {("x" + k if k == "net.0.bias" else k): v for k, v in weights.items()}
    reshaped = {**weights, "net.0.bias": weights["net.0.bias"].reshape(2, -1)}
    retyped = {**weights, "net.0.bias": weights["net.0.bias"].view(torch.int32)}
    assert len({digest, *(weights_digest(w) for w in (renamed, reshaped, retyped))}) == 4
    assert weights_digest(dict(reversed(list(weights.items())))) == digest  # order-free
    transposed = {**weights, "net.3.weight": weights["net.3.weight"].t().contiguous().t()}
    assert weights_digest(transposed) == digest  # the values, not their memory layout


def test_a_checkpoint_from_before_digests_still_loads(tmp_path, simple_model):
    payload = simple_model.checkpoint().payload()
    del payload["weights_digest"]
    model = HamletModel.load(_saved(tmp_path, payload))
    obs = torch.randn(3, model.obs_dim, generator=torch.Generator().manual_seed(0))
    assert torch.equal(model.predict(obs)["q_values"], simple_model.predict(obs)["q_values"])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_refused(tmp_path, simple_model, value):
    checkpoint = simple_model.checkpoint()
    bias = checkpoint.state_dict["net.6.bias"].clone()
    bias[2] = value
    checkpoint.state_dict = {**checkpoint.state_dict, "net.6.bias": bias}
    error = _error(save_checkpoint(checkpoint, tmp_path / "m.pt"))  # digest of the NaN
    assert (error.code, error.path) == ("E209", "state_dict.net.6.bias")
    assert "(of 6)" in str(error)


def test_the_safetensors_digest_is_checked(tmp_path, simple_model):
    from safetensors import safe_open
    from safetensors.torch import save_file

    path = simple_model.export(tmp_path / "m.safetensors", "safetensors").path
    with safe_open(str(path), "pt") as handle:
        header = handle.metadata()
        weights = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    weights["net.0.bias"] = weights["net.0.bias"] + 1
    save_file(weights, tmp_path / "edited.safetensors", metadata=header)
    error = _error(tmp_path / "edited.safetensors")
    assert (error.code, error.path) == ("E208", "__metadata__.hamlet.weights_digest")
    del header["hamlet.weights_digest"]  # an export from before digests
    save_file(weights, tmp_path / "old.safetensors", metadata=header)
    assert HamletModel.load(tmp_path / "old.safetensors").source_format == "safetensors"
    for key, value, code, where in (
        ("hamlet.spec_hash", "sha256:" + "0" * 64, "E206", "spec_hash"),
        ("hamlet.metadata", '{"pack": 3}', "E204", "metadata.pack"),
        ("hamlet.metadata", "[1]", "E204", "metadata"),
        ("hamlet.brain_spec", "[" * 100_000 + "]" * 100_000, "E201", "brain_spec"),
    ):
        save_file(weights, tmp_path / "bad.safetensors", metadata={**header, key: value})
        error = _error(tmp_path / "bad.safetensors")
        assert (error.code, error.path) == (code, f"__metadata__.hamlet.{where}"), key


# --- files that are not checkpoints ------------------------------------------------------


def _file(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _symlink_loop(tmp_path: Path) -> Path:
    (tmp_path / "loop.pt").symlink_to(tmp_path / "loop.pt")
    return tmp_path / "loop.pt"


def _bad_central_directory(tmp_path: Path) -> Path:
    path = HamletModel.from_spec("simple_q", world="L1_full_observability", seed=0).save(
        tmp_path / "m.pt"
    )
    raw = bytearray(path.read_bytes())
    entry = raw.rindex(b"PK\x01\x02")  # the last entry's sizes claim 4 GB
    raw[entry + 20 : entry + 28] = b"\xff\xff\xff\xf0" * 2
    path.write_bytes(bytes(raw))
    return path


def _zip_bomb(tmp_path: Path) -> Path:
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("archive/data/0", bytes(64 << 20))  # 64 MB of zeros, 64 kB packed
    return path


@pytest.mark.parametrize(
    ("make", "code", "says"),
    [
        (lambda tmp: tmp / "missing.pt", "E200", "no such checkpoint"),
        (lambda tmp: tmp, "E200", "is a folder, not a checkpoint file"),
        (_symlink_loop, "E200", "symbolic link that leads round in a loop"),
        (lambda tmp: _file(tmp / "e.pt", b""), "E201", "empty"),
        (lambda tmp: _file(tmp / "t.pt", b"hello"), "E201", "text file"),
        (_bad_central_directory, "E201", "claims to unpack to"),
        (_zip_bomb, "E201", "claims to unpack to"),
    ],
    ids=["missing", "folder", "symlink-loop", "empty", "text", "central-directory", "zip-bomb"],
)
def test_files_that_are_not_checkpoints(tmp_path, make, code, says):
    error = _error(make(tmp_path))
    assert error.code == code and says in str(error)


def test_a_text_file_is_not_called_an_interrupted_copy(tmp_path):
    error = _error(_file(tmp_path / "t.pt", b"hello"))
    assert "interrupted copy" not in error.hint and "HamletModel.save" in error.hint
    assert "interrupted copy" in _error(_file(tmp_path / "e.pt", b"")).hint


@pytest.mark.parametrize(
    "shape",
    [b"J\xff\xff\xff\xff\x85", b"\x8a\x08" + (2**62).to_bytes(8, "little") + b"\x85"],
    ids=["negative", "2**62"],
)
def test_impossible_shapes_are_corrupt_files(tmp_path, simple_model, shape):
    payload = simple_model.checkpoint().payload()
    payload["state_dict"]["net.0.bias"] = torch.zeros(SHAPE_MARK)
    error = _error(with_shape(payload, tmp_path / "m.pt", shape))
    assert error.code == "E201"


def test_a_shape_claiming_more_values_than_stored_is_refused(tmp_path, simple_model):
    payload = simple_model.checkpoint().payload()
    payload["state_dict"]["net.0.weight"] = torch.zeros(1, 1).expand(10**6, 10**6)
    error = _error(_saved(tmp_path, payload))
    assert (error.code, error.path) == ("E204", "state_dict.net.0.weight")


def test_no_message_repeats_pytorchs_advice_to_load_unsafely(tmp_path, simple_model):
    good = simple_model.save(tmp_path / "good.pt").read_bytes()
    broken = {
        "truncated.pt": good[: len(good) // 2],
        "pickle.pt": b"\x80\x02" + b"\x99" * 50,
        "text.pt": b"hello",
        "zip.pt": good.replace(b"archive/data.pkl", b"archive/xxxx.pkl"),
    }
    for name, content in broken.items():
        (tmp_path / name).write_bytes(content)
        error = _error(tmp_path / name)
        assert error.code == "E201", name
        assert "weights_only" not in str(error) and "\x1b" not in str(error), name


# --- bare state_dicts and the original system's files ------------------------------------


def _bare(simple_model, recurrent_model):
    simple, recurrent = simple_model.module.state_dict(), recurrent_model.module.state_dict()
    return {
        "1-D tensors only": ({k: torch.zeros(4) for k in simple}, "E207"),
        "zero rows": ({**simple, "net.0.weight": torch.zeros(0, 91)}, "E207"),
        "zero-size tensors": ({k: torch.zeros(0) for k in simple}, "E207"),
        "zero channels": (
            {**recurrent, "vision_encoder.2.weight": torch.zeros(0, 16, 3, 3)},
            "E207",
        ),
        "1-D projection": ({**recurrent, "vision_encoder.5.weight": torch.zeros(5)}, "E207"),
        "odd layer name": ({**simple, "net.x.weight": torch.zeros(2, 2)}, "E205"),
    }


@pytest.mark.parametrize(
    "case",
    ["1-D tensors only", "zero rows", "zero-size tensors", "zero channels", "1-D projection",
     "odd layer name"],
)  # fmt: skip
def test_malformed_bare_state_dicts(tmp_path, simple_model, recurrent_model, case):
    weights, code = _bare(simple_model, recurrent_model)[case]
    assert _error(_saved(tmp_path, weights)).code == code


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"training_config": "abc"}, "training_config"),
        ({"training_config": {"population": [1]}}, "training_config.population"),
        (
            {"training_config": {"population": {"network_type": 3}}},
            "training_config.population.network_type",
        ),
        ({"training_config": {"training": 5}}, "training_config.training"),
        ({"curriculum_state": [1]}, "curriculum_state"),
        ({"curriculum_state": {"agent_stages": torch.tensor([])}}, "curriculum_state.agent_stages"),
        ({"episode": "many"}, "episode"),
        ({"epsilon": 2.0}, "epsilon"),
        ({"config_dir": ["configs"]}, "config_dir"),
        ({"population_state": {"q_network": {"net.0.weight": 1}}}, "population_state.q_network"),
    ],
    ids=str,
)
def test_original_checkpoints_with_mistyped_config_are_named(tmp_path, change, path):
    data = {**original_checkpoint(SimpleQNetwork(91, 6), "simple"), **change}
    error = _error(_saved(tmp_path, data))
    assert error.code == "E204" and error.path.startswith(path)


def test_seed_004_files_with_mistyped_config_are_named(tmp_path, simple_model):
    base = {"model_state_dict": simple_model.module.state_dict(), "model_config": {}}
    for config, path in (
        ({"n_action": "6"}, "model_config.n_action"),
        ({"n_action": 0}, "model_config.n_action"),
        ({"dueling_dqn": torch.tensor([1, 0])}, "model_config.dueling_dqn"),
        ({"noisy_std_init": "wide"}, "model_config.noisy_std_init"),
    ):
        error = _error(_saved(tmp_path, {**base, "model_config": config}))
        assert (error.code, error.path) == ("E204", path)


# --- the affordance layout ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "path"),
    [
        ({}, "metadata.affordance_layout"),
        ([[1, 2]], "metadata.affordance_layout"),
        ({"Bed": [-1, 2]}, "metadata.affordance_layout.Bed"),
        ({"Bed": [1.0, 2]}, "metadata.affordance_layout.Bed"),
        ({"Bed": "1, 2"}, "metadata.affordance_layout.Bed"),
        ({"Bed": [1, 2, 3]}, "metadata.affordance_layout.Bed"),
        ({"Bed": [True, 2]}, "metadata.affordance_layout.Bed"),
    ],
    ids=str,
)
def test_a_malformed_affordance_layout_is_refused_on_load(tmp_path, simple_model, layout, path):
    payload = simple_model.checkpoint(affordance_layout=layout).payload()
    error = _error(_saved(tmp_path, payload))
    assert (error.code, error.path) == ("E204", path)


def test_an_affordance_layout_is_checked_against_the_world():
    layout = {"Bed": [0, 1], "Job": (2, 2)}
    assert check_affordance_layout(layout, affordances=["Bed", "Job"], grid_size=3) == {
        "Bed": (0, 1),
        "Job": (2, 2),
    }
    for names, grid, says in (
        (["Bed", "Job"], 2, "Job lies outside the 2x2 grid"),
        (["Bed", "Job", "Shower"], 3, "does not place Shower"),
        (["Bed"], 3, "places Job, which this world does not have"),
    ):
        with pytest.raises(CheckpointError) as info:
            check_affordance_layout(layout, affordances=names, grid_size=grid, file="m.pt")
        assert info.value.code == "E302" and says in str(info.value)
    with pytest.raises(CheckpointError) as info:
        check_affordance_layout(
            {"Bed": [1, 1], "Job": [1, 1]}, affordances=["Bed", "Job"], grid_size=3
        )
    assert "Bed and Job share a cell" in str(info.value)
    with pytest.raises(CheckpointError) as info:
        check_affordance_layout({"Bed": [1]}, affordances=["Bed"], grid_size=3)
    assert info.value.code == "E204"


def test_metadata_that_could_not_be_read_back_is_never_saved(tmp_path, simple_model):
    with pytest.raises(CheckpointError) as info:
        simple_model.save(tmp_path / "m.pt", affordance_layout={"Bed": [1.5, 2]})
    assert info.value.path == "metadata.affordance_layout.Bed"
    with pytest.raises(CheckpointError):
        simple_model.save(tmp_path / "m.pt", stats=torch.zeros(3))
    assert not (tmp_path / "m.pt").exists()


# --- training checkpoints ----------------------------------------------------------------


def test_a_sound_training_checkpoint_round_trips_with_both_digests(tmp_path, simple_model):
    path = save_checkpoint(_training(simple_model), tmp_path / "c.pt")
    raw = read_file(path)
    assert raw["weights_digest"] == weights_digest(raw["online"])
    assert raw["target_digest"] == weights_digest(raw["target"])
    back = load_training_checkpoint(path, required={"rng.torch": torch.Tensor})
    assert back.counters["env_steps"] == 700 and back.metadata["pack"] == "L1_full_observability"
    assert all(torch.equal(back.online[k], v) for k, v in simple_model.module.state_dict().items())


def _edited_spec(model):
    return {**model.spec, "description": "edited"}


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        ({"brain_spec": _edited_spec}, "E206", "brain_spec_hash"),
        ({"brain_spec_hash": lambda m: "sha256:" + "0" * 64}, "E206", "brain_spec_hash"),
        ({"counters": lambda m: {"episode": -1}}, "E204", "counters.episode"),
        ({"counters": lambda m: {"episode": 2.5}}, "E204", "counters.episode"),
        ({"counters": lambda m: {"episode": 1, "env_steps": True}}, "E204", "counters.env_steps"),
        ({"counters": lambda m: {"env_steps": 3}}, "E204", "counters.episode"),
        ({"config": lambda m: {"training.yaml": 3}}, "E204", "config.training.yaml"),
        ({"rng": lambda m: [1, 2]}, "E204", "rng"),
        ({"metadata": lambda m: {"pack": ["L1"]}}, "E204", "metadata.pack"),
    ],
    ids=str,
)
def test_training_checkpoints_are_read_as_strictly_as_models(
    tmp_path, simple_model, change, code, path
):
    ((key, make),) = change.items()
    payload = _training(simple_model).payload()
    payload[key] = make(simple_model)
    file = _saved(tmp_path, payload)
    for load in (load_training_checkpoint, HamletModel.load):
        with pytest.raises(CheckpointError) as info:
            load(file)
        assert (info.value.code, info.value.path) == (code, path), load.__name__


def test_training_checkpoint_entries_missing_or_damaged(tmp_path, simple_model):
    payload = _training(simple_model).payload()
    for key in ("brain_spec", "online", "target", "optimizer", "counters", "config"):
        broken = {k: v for k, v in payload.items() if k != key}
        with pytest.raises(CheckpointError) as info:
            load_training_checkpoint(_saved(tmp_path, broken))
        assert (info.value.code, info.value.path) == ("E204", key)
    target = {k: v.clone() for k, v in payload["target"].items()}
    target["net.0.bias"][0] += 1
    with pytest.raises(CheckpointError) as info:
        load_training_checkpoint(_saved(tmp_path, {**payload, "target": target}))
    assert (info.value.code, info.value.path) == ("E208", "target_digest")
    with pytest.raises(CheckpointError) as info:
        load_training_checkpoint(_saved(tmp_path, payload), required={"rng.act": torch.Tensor})
    assert (info.value.code, info.value.path) == ("E204", "rng.act")
    with pytest.raises(CheckpointError) as info:
        load_training_checkpoint(_saved(tmp_path, payload), required={"rng.torch": int})
    assert "resuming needs int" in str(info.value)


def test_a_non_finite_optimizer_state_is_refused(tmp_path, simple_model):
    model = HamletModel.from_spec("simple_q", world="L1_full_observability", seed=0)
    optimizer = torch.optim.Adam(model.module.parameters())
    model.module(torch.zeros(1, model.obs_dim)).sum().backward()
    optimizer.step()
    state = optimizer.state_dict()
    state["state"][2]["exp_avg_sq"][0] = float("inf")
    path = save_checkpoint(_training(model, optimizer=state), tmp_path / "c.pt")
    with pytest.raises(CheckpointError) as info:
        load_training_checkpoint(path)
    assert (info.value.code, info.value.path) == ("E209", "optimizer.state[2].exp_avg_sq")


def test_an_allowed_spec_mismatch_resumes_with_a_warning(tmp_path, simple_model):
    payload = _training(simple_model).payload()
    payload["brain_spec_hash"] = "sha256:" + "0" * 64
    with pytest.warns(HashMismatchWarning):
        back = load_training_checkpoint(_saved(tmp_path, payload), allow_hash_mismatch=True)
    assert back.counters["episode"] == 7


# --- the commands ------------------------------------------------------------------------


def test_the_commands_report_a_damaged_checkpoint_without_a_traceback(
    tmp_path, simple_model, capsys
):
    payload = simple_model.checkpoint().payload()
    payload["metadata"] = ["not", "a", "dict"]
    path = _saved(tmp_path, payload, "model_ep000001.pt")
    training = _training(simple_model).payload()
    training["counters"] = {"episode": "seven"}
    _saved(tmp_path, training, "checkpoint_ep000007.pt")
    for argv in (
        ["inspect", str(path)],
        ["export", str(path), str(tmp_path / "m.onnx")],
        ["migrate", str(tmp_path)],
    ):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "error[E204]" in err and "Traceback" not in err, argv


def test_migrate_keeps_an_inference_checkpoint_that_exists(tmp_path, simple_model):
    save_checkpoint(_training(simple_model), tmp_path / "checkpoint_ep000007.pt")
    existing = simple_model.save(tmp_path / "model_ep000007.pt", note="the trainer's own")
    before = existing.read_bytes()
    outcomes = list(migrate(tmp_path))
    assert outcomes == [Kept(tmp_path / "checkpoint_ep000007.pt", existing)]
    assert existing.read_bytes() == before
    (replaced,) = migrate(tmp_path, force=True)
    assert replaced.replaced and existing.read_bytes() != before
    assert HamletModel.load(existing).metadata["migrated_from"] == "checkpoint_ep000007.pt"


def test_an_unknown_or_missing_device_is_said_so_not_blamed_on_the_file(tmp_path, simple_model):
    path = simple_model.save(tmp_path / "m.pt")
    with pytest.raises(HamletError) as info:
        HamletModel.load(path, device="gpu")
    assert info.value.code == "E300"
    if not torch.cuda.is_available():
        for load in (HamletModel.load, load_training_checkpoint):
            with pytest.raises(HamletError) as info:
                load(path, device="cuda")
            assert info.value.code == "E301"


def test_loading_reads_nothing_but_regular_files(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    os.mkfifo(tmp_path / "pipe.pt")  # reading it would block forever
    error = _error(tmp_path / "pipe.pt")
    assert error.code == "E200" and "not a regular file" in str(error)


@pytest.mark.parametrize("module", ["metadata", "digest"])
def test_docstring_examples_run(module):
    from hamlet.runtime.export import digest
    from hamlet.runtime.model import metadata

    result = doctest.testmod({"metadata": metadata, "digest": digest}[module])
    assert result.attempted > 0 and result.failed == 0

"""Exports: every brain goes to ONNX; TorchScript, safetensors and standalone Python
load back and compute the same; verification catches an export that does not."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.cli import main
from hamlet.runtime.export import verify_export
from hamlet.schemas import ExportError

from ..conftest import HEAD_COMBOS, TRUNKS, variant_model

pytestmark = pytest.mark.numeric  # run again on other CPU kernels by .ci/run


@pytest.mark.parametrize("combo", HEAD_COMBOS, ids=str)
@pytest.mark.parametrize("trunk", TRUNKS)
def test_every_brain_exports_to_onnx_and_verifies(tmp_path, trunk, combo):
    model = variant_model(trunk, *combo)
    path = model.export(tmp_path / "model.onnx", "onnx").path
    report = verify_export(model, path, "onnx")
    assert report.max_q_error <= 1e-5
    assert report.steps == (66 if model.is_recurrent else 2)
    proto = onnx.load(str(path))
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    onnx.checker.check_model(proto)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["hamlet.spec_hash"] == model.spec_hash
    assert json.loads(meta["hamlet.action_names"])[5] == "WAIT"
    assert ("hamlet.noisy" in meta) == combo[2]
    names = [i.name for i in proto.graph.input]
    assert names == (["obs", "hidden_h", "hidden_c"] if model.is_recurrent else ["obs"])
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_onnx_recurrent_interface(tmp_path, recurrent_model):
    path = recurrent_model.export(tmp_path / "m.onnx", "onnx").path
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["q_values", "new_hidden_h", "new_hidden_c"]
    obs = np.zeros((4, 54), dtype=np.float32)
    h = np.zeros((1, 4, 256), dtype=np.float32)
    q, new_h, new_c = session.run(None, {"obs": obs, "hidden_h": h, "hidden_c": h})
    assert q.shape == (4, 6) and new_h.shape == (1, 4, 256) and new_c.shape == (1, 4, 256)


def test_verification_catches_an_export_that_computes_something_else(tmp_path, simple_model):
    path = simple_model.export(tmp_path / "m.onnx", "onnx").path
    proto = onnx.load(str(path))
    weight = next(t for t in proto.graph.initializer if list(t.dims) == [6, 128])
    values = onnx.numpy_helper.to_array(weight).copy() + 0.01
    weight.CopyFrom(onnx.numpy_helper.from_array(values, weight.name))
    onnx.save(proto, str(path))
    with pytest.raises(ExportError) as info:
        verify_export(simple_model, path, "onnx")
    assert info.value.code == "E211"


@pytest.mark.parametrize("which", ["simple_model", "recurrent_model", "dueling_noisy_c51"])
def test_torchscript_loads_with_jit_and_matches(tmp_path, which, request):
    model = (
        variant_model("recurrent_spatial_q", True, True, True)
        if which.startswith("duel")
        else (request.getfixturevalue(which))
    )
    exported = model.export(tmp_path / "model.pt", "torchscript", verify=True)
    path = exported.path
    assert str(exported.verification).startswith("verified torchscript")
    scripted = torch.jit.load(str(path))
    obs = torch.randn(3, model.obs_dim)
    args = (obs, *model.initial_state(3)) if model.is_recurrent else (obs,)
    out = scripted(*args)
    q = out[0] if model.is_recurrent else out
    torch.testing.assert_close(q, model.predict(obs)["q_values"])


@pytest.mark.parametrize("which", ["simple_model", "recurrent_model"])
def test_safetensors_carries_the_spec_and_loads_back_identical(tmp_path, which, request):
    from safetensors import safe_open

    model = request.getfixturevalue(which)
    path = model.export(tmp_path / "model", "safetensors", verify=True).path
    assert path.suffix == ".safetensors"
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata()
    assert meta["hamlet.spec_hash"] == model.spec_hash
    assert json.loads(meta["hamlet.brain_spec"]) == json.loads(json.dumps(model.spec))
    loaded = HamletModel.load(path)
    assert loaded.source_format == "safetensors"
    for a, b in zip(
        loaded.module.state_dict().values(), model.module.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


@pytest.mark.parametrize("which", ["simple_model", "recurrent_model"])
def test_python_export_runs_where_hamlet_cannot_be_imported(tmp_path, which, request, monkeypatch):
    model = request.getfixturevalue(which)
    monkeypatch.chdir(tmp_path)  # a relative output folder, as users type it
    exported = model.export("exported", "python", verify=True)
    folder = exported.path
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "model.py",
        "spec.json",
        "weights.pt",
    ]
    cases = 3 if model.is_recurrent else 2
    assert str(exported.verification).startswith(f"verified python: {cases} cases")
    assert (folder / "model.py").read_text() == model.brain.source
    assert f"from model import {model.brain.class_name}" in (folder / "README.md").read_text()


def test_export_cli_writes_and_verifies(tmp_path, capsys, recurrent_model):
    checkpoint = recurrent_model.save(tmp_path / "model_ep000010.pt")
    code = main(["export", str(checkpoint), str(tmp_path / "out.onnx"), "--verify"])
    out = capsys.readouterr().out
    assert code == 0
    assert "wrote" in out and "out.onnx (onnx)" in out
    assert "verified onnx: 3 cases, 66 steps" in out


def test_export_cli_rejects_an_unknown_format(tmp_path, capsys, simple_model):
    checkpoint = simple_model.save(tmp_path / "m.pt")
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(checkpoint), str(tmp_path / "x"), "--format", "tflite"])
    assert exit_.value.code == 2


def test_exports_are_readable_by_others(tmp_path, simple_model):
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = simple_model.export(tmp_path / "m.onnx", "onnx").path
        checkpoint = simple_model.save(tmp_path / "m.pt")
    finally:
        os.umask(old)
    for file in (path, checkpoint):
        assert stat.S_IMODE(file.stat().st_mode) == 0o644


def test_an_export_is_not_mistaken_for_a_broken_checkpoint(tmp_path, simple_model, capsys):
    onnx_path = simple_model.export(tmp_path / "m.onnx", "onnx").path
    script = simple_model.export(tmp_path / "m_script.pt", "torchscript").path
    for path, kind in ((onnx_path, "ONNX"), (script, "TorchScript")):
        assert main(["inspect", str(path)]) == 1
        err = capsys.readouterr().err
        assert f"error[E203]: {path} is a {kind} export, not a checkpoint" in err
        assert "weights_only" not in err and "Warning" not in err


def _case(q: list[list[float]]) -> dict:
    return {"q": torch.tensor([q]), "h": None, "c": None}


def test_the_tolerance_grows_with_the_q_values():
    # float32 keeps ~7 digits: Q-values near 110 computed in another order (onnxruntime's
    # kernels) differed by 4.6e-5 in the README's main job; near 0.5 that is a real error
    from hamlet.runtime.export.verify import _compare

    plan = [{"obs": torch.zeros(1, 1, 3)}]
    large = _compare("onnx", plan, [_case([[110.0, 100.0]])], [_case([[110.000046, 100.0]])], None)
    assert large.max_q_error == pytest.approx(4.6e-5, rel=0.2)
    with pytest.raises(ExportError, match=r"past the tolerance 1e-05 \+ 1e-05 \|x\|"):
        _compare("onnx", plan, [_case([[0.5, 0.1]])], [_case([[0.500046, 0.1]])], None)


def test_a_near_tie_of_large_q_values_may_break_either_way():
    from hamlet.runtime.export.verify import _compare

    plan = [{"obs": torch.zeros(1, 1, 3)}]
    got = _compare("onnx", plan, [_case([[110.00002, 110.0]])], [_case([[110.0, 110.00002]])], None)
    assert got.near_ties == 1


def _wrong_weights(path):
    proto = onnx.load(str(path))
    weight = next(t for t in proto.graph.initializer if list(t.dims) == [6, 128])
    values = onnx.numpy_helper.to_array(weight) + 0.05
    weight.CopyFrom(onnx.numpy_helper.from_array(values, weight.name))
    onnx.save(proto, str(path))


def test_an_export_that_fails_its_check_is_removed(tmp_path, simple_model, monkeypatch, capsys):
    from hamlet.runtime.export import formats

    real_export = formats.export_onnx
    monkeypatch.setattr(
        formats,
        "export_onnx",
        lambda model, path: (_wrong_weights(real_export(model, path)), path)[1],
    )
    checkpoint = simple_model.save(tmp_path / "m.pt")
    assert main(["export", str(checkpoint), str(tmp_path / "m.onnx"), "--verify"]) == 1
    assert "error[E211]" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_a_python_export_that_fails_its_check_leaves_the_folders_other_files(
    tmp_path, simple_model, monkeypatch
):
    from hamlet.runtime.export import formats

    real_export = formats.export_python

    def wrong_weights(model, path):
        path = real_export(model, path)
        weights = torch.load(path / "weights.pt", weights_only=True)
        weights = {name: value + 0.05 for name, value in weights.items()}
        torch.save(weights, path / "weights.pt")
        return path

    monkeypatch.setattr(formats, "export_python", wrong_weights)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's own file")
    with pytest.raises(ExportError):
        simple_model.export(folder, "python", verify=True)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    with pytest.raises(ExportError):
        simple_model.export(tmp_path / "new", "python", verify=True)
    assert not (tmp_path / "new").exists()


def test_a_python_export_where_a_folder_cannot_be_made_is_e313(tmp_path, simple_model, capsys):
    checkpoint = simple_model.save(tmp_path / "m.pt")
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile", tmp_path / "afile" / "sub"):
        assert main(["export", str(checkpoint), str(out), "--format", "python"]) == 1
        err = capsys.readouterr().err
        assert "error[E313]" in err and "Traceback" not in err

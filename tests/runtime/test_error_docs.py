"""docs/errors.md shows, for E200-E211, exactly what ``hamlet`` prints: each case is
rebuilt here (a checkpoint broken on purpose, a fault injected into an exporter)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import onnx
import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.cli import main
from hamlet.runtime.export import formats
from hamlet.runtime.model.checkpoint import save_checkpoint

ERRORS_MD = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()
CHECKPOINT = "model_ep000100.pt"


def _model() -> HamletModel:
    return HamletModel.from_spec("simple_q", world="L1_full_observability", seed=0)


def _build(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Create, in the current folder, what the example of ``code`` runs on."""
    model = _model()
    if code == "E201":
        good = model.save("good.pt")
        Path(CHECKPOINT).write_bytes(good.read_bytes()[:50_000])
        good.unlink()
    elif code == "E202":

        class Payload:
            def __reduce__(self):
                return (os.system, ("echo owned",))

        torch.save({"state_dict": {}, "note": Payload()}, CHECKPOINT)
    elif code == "E203":
        torch.save({"format_version": "inference_v7", "state_dict": {}}, CHECKPOINT)
    elif code == "E204":
        payload = model.checkpoint().payload()
        del payload["state_dict"]
        torch.save(payload, CHECKPOINT)
    elif code == "E205":
        checkpoint = model.checkpoint()
        weights = dict(checkpoint.state_dict)
        del weights["net.6.bias"]
        weights["net.3.weight"] = torch.zeros(64, 128)
        checkpoint.state_dict = weights
        save_checkpoint(checkpoint, CHECKPOINT)
    elif code == "E206":
        checkpoint = model.checkpoint()
        checkpoint.brain_spec = {**checkpoint.brain_spec, "description": "edited by hand"}
        save_checkpoint(checkpoint, CHECKPOINT)
    elif code == "E208":
        payload = model.checkpoint().payload()  # the digest of the weights as they were
        weights = payload["state_dict"]
        weights["net.6.bias"] = weights["net.6.bias"] + 0.5
        torch.save(payload, CHECKPOINT)
    elif code == "E209":
        checkpoint = model.checkpoint()
        checkpoint.state_dict["net.3.weight"] = torch.full((128, 128), float("nan"))
        save_checkpoint(checkpoint, CHECKPOINT)
    elif code == "E207":
        torch.save(
            {"encoder.weight": torch.zeros(32, 91), "head.weight": torch.zeros(6, 32)}, "weights.pt"
        )
    elif code == "E210":
        model.save(CHECKPOINT)

        def broken_exporter(*args, **kwargs):
            raise RuntimeError("injected failure")

        monkeypatch.setattr(torch.onnx, "export", broken_exporter)
    elif code == "E211":
        model.save(CHECKPOINT)
        real_export = formats.export_onnx

        def export_with_wrong_weights(model, path):
            path = real_export(model, path)
            proto = onnx.load(str(path))
            weight = next(t for t in proto.graph.initializer if list(t.dims) == [6, 128])
            values = onnx.numpy_helper.to_array(weight) + 0.05
            weight.CopyFrom(onnx.numpy_helper.from_array(values, weight.name))
            onnx.save(proto, str(path))
            return path

        monkeypatch.setattr(formats, "export_onnx", export_with_wrong_weights)


def run_documented_example(code: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the console example of ``code``'s section of docs/errors.md through ``hamlet``;
    returns its exit status, what it printed and what the page shows."""
    section = re.search(rf"(?ms)^### {code} .*?(?=^### |\Z)", ERRORS_MD).group(0)
    block = re.search(r"```console\n(.*?)```", section, re.S).group(1)
    command, _, shown = block.rstrip("\n").partition("\n")
    assert command.startswith("$ hamlet "), command
    status = main(shlex.split(command)[2:])
    out, err = capsys.readouterr()
    printed = "\n".join(line.rstrip() for line in (err + out).strip("\n").split("\n"))
    return status, printed, shown


@pytest.mark.parametrize("code", [f"E2{n:02}" for n in range(12)])  # E200 to E211
def test_documented_output_is_what_hamlet_prints(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _build(code, monkeypatch)
    status, printed, shown = run_documented_example(code, capsys)
    assert status == 1
    assert printed == shown

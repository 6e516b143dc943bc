"""The export formats: ONNX, TorchScript and standalone Python source here, safetensors
in :mod:`.weights`; :func:`export_model` picks one and verifies it when asked.

ONNX uses one pinned exporter: PyTorch's TorchScript-based ``torch.onnx.export``
(``dynamo=False``) at opset 17, which is about 20x faster here than the dynamo one.
Noisy heads export their deterministic path (mean weights), and say so in the
model's metadata.
"""

from __future__ import annotations

import contextlib
import io
import json
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from hamlet.runtime.files import refused_writes, write_atomically
from hamlet.schemas.errors import Diagnostic, ExportError

from .exportable import (
    Exportable,
    describe,
    example_inputs,
    input_names,
    is_recurrent,
    output_names,
    with_suffix,
)
from .verify import Verification, verify_export
from .weights import export_safetensors

FORMATS = ("onnx", "torchscript", "safetensors", "python")
OPSET = 17


@dataclass(frozen=True)
class Export:
    """What an export wrote, and how closely it matched the model when verified."""

    path: Path
    format: str
    verification: Verification | None = None


def export_model(
    model: Exportable, out: str | Path, format: str, *, verify: bool = False
) -> Export:
    """Export ``model`` to ``out`` in ``format``; with ``verify``, check it computes the same."""
    exporters = {
        "onnx": export_onnx,
        "torchscript": export_torchscript,
        "safetensors": export_safetensors,
        "python": export_python,
    }
    if format not in exporters:
        raise ValueError(f"unknown export format {format!r}; choose from {', '.join(FORMATS)}")
    path = exporters[format](model, Path(out))
    if not verify:
        return Export(path, format, None)
    try:
        return Export(path, format, verify_export(model, path, format))
    except ExportError:  # (E211: what failed its check is not left for use)
        _remove(path)
        raise


def _remove(path: Path) -> None:
    """Remove an export: a file, or the files :func:`export_python` writes (the folder
    too, unless it holds others)."""
    if not path.is_dir():
        path.unlink(missing_ok=True)
        return
    for name in PYTHON_FILES:
        (path / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # (it holds files of its own)
        path.rmdir()


# --- ONNX -------------------------------------------------------------------------------


def export_onnx(model: Exportable, path: Path) -> Path:
    """``obs [batch, obs_dim] -> q_values`` (recurrent: plus ``hidden_h``/``hidden_c``
    ``[layers, batch, hidden]`` in and ``new_hidden_h``/``new_hidden_c`` out), dynamic batch."""
    import onnx

    dynamic = {"obs": {0: "batch"}, "q_values": {0: "batch"}}
    if is_recurrent(model.module):
        dynamic |= {name: {1: "batch"} for name in ("hidden_h", "hidden_c")}
        dynamic |= {name: {1: "batch"} for name in ("new_hidden_h", "new_hidden_c")}
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
            torch.onnx.export(
                model.module,
                example_inputs(model),
                buffer,
                dynamo=False,
                opset_version=OPSET,
                input_names=input_names(model),
                output_names=output_names(model),
                dynamic_axes=dynamic,
            )
    except Exception as exc:  # the exporter raises many kinds; all mean the same to a user
        raise _failed("onnx", exc, path) from exc
    proto = onnx.load_model_from_string(buffer.getvalue())
    for key, value in describe(model).items():
        proto.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(proto)
    path = with_suffix(path, "onnx")
    write_atomically(path, lambda handle: handle.write(proto.SerializeToString()))
    return path


# --- TorchScript ------------------------------------------------------------------------


def export_torchscript(model: Exportable, path: Path) -> Path:
    """A traced TorchScript module (``torch.jit.load``), with the spec as an extra file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.trace is deprecated but still supported
            traced = torch.jit.trace(model.module, example_inputs(model), check_trace=False)
    except Exception as exc:
        raise _failed("torchscript", exc, path) from exc
    extra = {"hamlet.json": json.dumps(describe(model))}
    path = with_suffix(path, "torchscript")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        write_atomically(path, lambda handle: torch.jit.save(traced, handle, _extra_files=extra))
    return path


# --- standalone Python ------------------------------------------------------------------


PYTHON_FILES = ("model.py", "spec.json", "README.md", "weights.pt")


def export_python(model: Exportable, path: Path) -> Path:
    """A folder with ``model.py`` (the generated module: only torch needed),
    ``weights.pt`` (its state_dict), ``spec.json`` and a README saying how to use them."""
    with refused_writes(path):
        path.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().cpu() for k, v in model.module.state_dict().items()}
    spec = json.dumps(model.brain.to_dict(), indent=2) + "\n"
    files: dict[str, Any] = {  # (PYTHON_FILES, with weights.pt)
        "model.py": model.brain.source,
        "spec.json": spec,
        "README.md": _python_readme(model),
    }
    for name, text in files.items():
        write_atomically(path / name, lambda handle, text=text: handle.write(text.encode()))
    write_atomically(path / "weights.pt", lambda handle: torch.save(weights, handle))
    return path


def _python_readme(model: Exportable) -> str:
    name, obs_dim = model.brain.class_name, model.brain.layout.obs_dim
    if is_recurrent(model.module):
        usage = f"""\
            model = {name}()
            model.load_state_dict(torch.load("weights.pt", weights_only=True))
            h, c = model.initial_state(batch_size=1)
            q_values, h, c = model(obs, h, c)      # obs: [1, {obs_dim}]; carry h, c
            action = q_values.argmax(dim=1)"""
    else:
        usage = f"""\
            model = {name}()
            model.load_state_dict(torch.load("weights.pt", weights_only=True))
            q_values = model(obs)                  # obs: [batch, {obs_dim}]
            action = q_values.argmax(dim=1)"""
    return (
        textwrap.dedent(
            f"""\
        # {model.brain.resolved.spec.name}: a HAMLET brain as plain PyTorch

        `model.py` needs only `torch`; `weights.pt` holds its trained weights and
        `spec.json` the brain spec they belong to ({model.brain.spec_hash}).

        ```python
        import torch
        from model import {name}

        """
        )
        + textwrap.dedent(usage)
        + "\n```\n\nActions: "
        + ", ".join(model.brain.layout.action_names)
        + "\n"
    )


# --- helpers ----------------------------------------------------------------------------


def _failed(format: str, exc: BaseException, path: Path) -> ExportError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ExportError(
        Diagnostic(
            "E210",
            f"the {format} exporter failed: {first}",
            hint="please report this with the brain spec; another format may work meanwhile",
            file=str(path),
        )
    )

"""Take a model out of HAMLET: ONNX, TorchScript, safetensors or plain Python source.

Every format can be verified (``verify=True``; CLI ``--verify``): the exported model
is loaded back by the tool that will use it and must compute the same Q-values and
hidden states as the original (see :mod:`hamlet.runtime.verify`).

ONNX uses one pinned exporter: PyTorch's TorchScript-based ``torch.onnx.export``
(``dynamo=False``) at opset 17, which is about 20x faster here than the dynamo one.
Noisy heads export their deterministic path (mean weights), and say so in the
model's metadata.
"""

from __future__ import annotations

import io
import json
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from hamlet.schemas.errors import Diagnostic, ExportError

from .checkpoint import write_atomically
from .verify import Verification, verify_export

if TYPE_CHECKING:
    from .model import HamletModel

FORMATS = ("onnx", "torchscript", "safetensors", "python")
OPSET = 17
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt", "safetensors": ".safetensors", "python": ""}


@dataclass(frozen=True)
class Export:
    """What an export wrote, and how closely it matched the model when verified."""

    path: Path
    format: str
    verification: Verification | None = None


def export_model(
    model: HamletModel, out: str | Path, format: str, *, verify: bool = False
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
    return Export(path, format, verify_export(model, path, format) if verify else None)


def describe(model: HamletModel) -> dict[str, str]:
    """Metadata every export carries: what the network is and how to feed it."""
    notes = {
        "hamlet.spec_hash": model.spec_hash,
        "hamlet.brain_spec": json.dumps(model.spec, sort_keys=True),
        "hamlet.observation_layout": json.dumps(model.layout.to_dict()),
        "hamlet.action_names": json.dumps(list(model.action_names)),
        "hamlet.recurrent": str(model.module.recurrent or "none"),
    }
    if model.module.noisy:
        notes["hamlet.noisy"] = "deterministic path exported: mean weights, no noise"
    if model.module.distributional:
        notes["hamlet.distributional"] = "q_values are the expected values of the atoms"
    return notes


def example_inputs(model: HamletModel, batch: int = 1) -> tuple[torch.Tensor, ...]:
    obs = torch.zeros(batch, model.obs_dim, device=model.device)
    return (obs, *model.initial_state(batch)) if model.is_recurrent else (obs,)


def input_names(model: HamletModel) -> list[str]:
    return ["obs", "hidden_h", "hidden_c"] if model.is_recurrent else ["obs"]


def output_names(model: HamletModel) -> list[str]:
    return ["q_values", "new_hidden_h", "new_hidden_c"] if model.is_recurrent else ["q_values"]


# --- ONNX -------------------------------------------------------------------------------


def export_onnx(model: HamletModel, path: Path) -> Path:
    """``obs [batch, obs_dim] -> q_values`` (recurrent: plus ``hidden_h``/``hidden_c``
    ``[layers, batch, hidden]`` in and ``new_hidden_h``/``new_hidden_c`` out), dynamic batch."""
    import onnx

    dynamic = {"obs": {0: "batch"}, "q_values": {0: "batch"}}
    if model.is_recurrent:
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
    path = _with_suffix(path, "onnx")
    write_atomically(path, lambda handle: handle.write(proto.SerializeToString()))
    return path


# --- TorchScript ------------------------------------------------------------------------


def export_torchscript(model: HamletModel, path: Path) -> Path:
    """A traced TorchScript module (``torch.jit.load``), with the spec as an extra file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.trace is deprecated but still supported
            traced = torch.jit.trace(model.module, example_inputs(model), check_trace=False)
    except Exception as exc:
        raise _failed("torchscript", exc, path) from exc
    extra = {"hamlet.json": json.dumps(describe(model))}
    path = _with_suffix(path, "torchscript")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        write_atomically(path, lambda handle: torch.jit.save(traced, handle, _extra_files=extra))
    return path


# --- safetensors ------------------------------------------------------------------------


def export_safetensors(model: HamletModel, path: Path) -> Path:
    """The weights, with the resolved spec and its hash in ``__metadata__``; loads back
    with ``HamletModel.load``."""
    from safetensors.torch import save

    weights = {k: v.detach().contiguous().cpu() for k, v in model.module.state_dict().items()}
    metadata = {**describe(model), "hamlet.metadata": json.dumps(_jsonable(model.metadata))}
    path = _with_suffix(path, "safetensors")
    write_atomically(path, lambda handle: handle.write(save(weights, metadata=metadata)))
    return path


# --- standalone Python ------------------------------------------------------------------


def export_python(model: HamletModel, path: Path) -> Path:
    """A folder with ``model.py`` (the generated module: only torch needed),
    ``weights.pt`` (its state_dict), ``spec.json`` and a README saying how to use them."""
    path.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().cpu() for k, v in model.module.state_dict().items()}
    spec = json.dumps(model.spec, indent=2) + "\n"
    files: dict[str, Any] = {
        "model.py": model.brain.source,
        "spec.json": spec,
        "README.md": _python_readme(model),
    }
    for name, text in files.items():
        write_atomically(path / name, lambda handle, text=text: handle.write(text.encode()))
    write_atomically(path / "weights.pt", lambda handle: torch.save(weights, handle))
    return path


def _python_readme(model: HamletModel) -> str:
    name = model.brain.class_name
    if model.is_recurrent:
        usage = f"""\
            model = {name}()
            model.load_state_dict(torch.load("weights.pt", weights_only=True))
            h, c = model.initial_state(batch_size=1)
            q_values, h, c = model(obs, h, c)      # obs: [1, {model.obs_dim}]; carry h, c
            action = q_values.argmax(dim=1)"""
    else:
        usage = f"""\
            model = {name}()
            model.load_state_dict(torch.load("weights.pt", weights_only=True))
            q_values = model(obs)                  # obs: [batch, {model.obs_dim}]
            action = q_values.argmax(dim=1)"""
    return (
        textwrap.dedent(
            f"""\
        # {model.brain.resolved.spec.name}: a HAMLET brain as plain PyTorch

        `model.py` needs only `torch`; `weights.pt` holds its trained weights and
        `spec.json` the brain spec they belong to ({model.spec_hash}).

        ```python
        import torch
        from model import {name}

        """
        )
        + textwrap.dedent(usage)
        + "\n```\n\nActions: "
        + ", ".join(model.action_names)
        + "\n"
    )


# --- helpers ----------------------------------------------------------------------------


def _with_suffix(path: Path, format: str) -> Path:
    return path if path.suffix else path.with_suffix(SUFFIXES[format])


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


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))

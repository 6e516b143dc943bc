"""What every export is made from: a compiled network, its brain and its metadata.

Exports work on anything shaped like :class:`Exportable` (a
:class:`~hamlet.runtime.HamletModel` is one), so this room needs nothing of the model
room; the model room calls down into it to export and to read safetensors back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import torch

from hamlet.compiler import CompiledBrain

from .digest import weights_digest

SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt", "safetensors": ".safetensors", "python": ""}
"""The file suffix each format gets when the output path has none."""


class Exportable(Protocol):
    """What exporting needs of a model: its network, the brain it was compiled from and
    what is known about it."""

    @property
    def module(self) -> torch.nn.Module: ...

    @property
    def brain(self) -> CompiledBrain: ...

    @property
    def metadata(self) -> Mapping[str, Any]: ...


def is_recurrent(module: torch.nn.Module) -> bool:
    """Whether a compiled network carries a hidden state (``forward(obs, h, c)``)."""
    return module.recurrent is not None


def describe(model: Exportable) -> dict[str, str]:
    """Metadata every export carries: what the network is and how to feed it."""
    notes = {
        "hamlet.spec_hash": model.brain.spec_hash,
        "hamlet.weights_digest": weights_digest(model.module.state_dict()),
        "hamlet.brain_spec": json.dumps(model.brain.to_dict(), sort_keys=True),
        "hamlet.observation_layout": json.dumps(model.brain.layout.to_dict()),
        "hamlet.action_names": json.dumps(list(model.brain.layout.action_names)),
        "hamlet.recurrent": str(model.module.recurrent or "none"),
    }
    if model.module.noisy:
        notes["hamlet.noisy"] = "deterministic path exported: mean weights, no noise"
    if model.module.distributional:
        notes["hamlet.distributional"] = "q_values are the expected values of the atoms"
    return notes


def example_inputs(model: Exportable, batch: int = 1) -> tuple[torch.Tensor, ...]:
    """Zero inputs of the network's forward: ``obs`` (and ``h``, ``c`` if recurrent)."""
    device = next(model.module.parameters()).device
    obs = torch.zeros(batch, model.brain.layout.obs_dim, device=device)
    if not is_recurrent(model.module):
        return (obs,)
    return (obs, *model.module.initial_state(batch, device=device))


def input_names(model: Exportable) -> list[str]:
    return ["obs", "hidden_h", "hidden_c"] if is_recurrent(model.module) else ["obs"]


def output_names(model: Exportable) -> list[str]:
    if is_recurrent(model.module):
        return ["q_values", "new_hidden_h", "new_hidden_c"]
    return ["q_values"]


def with_suffix(path: Path, format: str) -> Path:
    """``path`` as given when it has a suffix, else with the format's own."""
    return path if path.suffix else path.with_suffix(SUFFIXES[format])

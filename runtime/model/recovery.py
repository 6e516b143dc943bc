"""The brain spec of bare weights, read off their tensors' names and shapes.

Weights of the built-in brains (any head variant) are told apart by their tensor
names and sized by their shapes; the spec extends ``simple_q`` or
``recurrent_spatial_q`` with those sizes, so that the compiled module takes the
weights with ``strict=True``. A shape that cannot be a layer (a missing dimension, a
dimension of size 0) is an E207 naming the tensor, never an exception of the
arithmetic that reads it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hamlet.schemas.errors import CheckpointError, Diagnostic
from hamlet.schemas.layout import ACTION_NAMES

from .entries import clip
from .tensors import StateDict

AFFORDANCE_SLOTS = 15  # the original's one-hot: 14 affordances and "none"
TEMPORAL = 4
RECURRENT_ENCODERS = ("vision_encoder", "position_encoder", "meter_encoder", "affordance_encoder")


@dataclass
class Recovered:
    """A spec (brain data for the compiler), its weights and what is known about them."""

    spec: dict[str, Any]
    state_dict: StateDict
    metadata: dict[str, Any] = field(default_factory=dict)


def from_state_dict(
    weights: StateDict, file: str, *, hints: Mapping[str, Any] | None = None
) -> Recovered:
    """A bare state_dict of a built-in brain; the architecture comes from the tensors."""
    hints = dict(hints or {})
    if "vision_encoder.0.weight" in weights:
        spec = _recurrent_spec(weights, file, hints)
    elif any(k.startswith("net.") for k in weights):
        spec = _simple_spec(weights, file, hints)
    else:
        names = ", ".join(sorted(weights)[:6]) or "no tensors"
        raise CheckpointError(
            Diagnostic(
                "E207",
                f"cannot tell which network these weights belong to (tensors: {names}, ...)",
                hint="bare weights load only for the built-in brains (simple_q, "
                "recurrent_spatial_q); save the brain spec with the weights (hamlet "
                "checkpoints do)",
                file=file,
            )
        )
    return Recovered(spec, weights, {"source_format": "state_dict"})


# --- the two built-in architectures ---------------------------------------------------


def _simple_spec(weights: StateDict, file: str, hints: Mapping[str, Any]) -> dict[str, Any]:
    head, in_features, actions = _head_options(weights, "net", file, hints)
    fields = _full_layout(in_features, hints)
    return {
        "extends": "simple_q",
        "name": "simple_q",
        "observation": {"fields": fields, "actions": actions},
        "network": {"net": head},
    }


def _recurrent_spec(weights: StateDict, file: str, hints: Mapping[str, Any]) -> dict[str, Any]:
    for encoder in RECURRENT_ENCODERS:
        if f"{encoder}.0.weight" not in weights:
            raise mismatch(file, f"a recurrent network needs {encoder}, which is missing")
    projection = _shape(weights, "vision_encoder.5.weight", file, 2)
    channels = _shape(weights, "vision_encoder.2.weight", file, 4)[0]
    window = math.isqrt(projection[1] // channels)
    if channels * window * window != projection[1]:
        raise mismatch(file, "vision_encoder.5 does not match a square window")
    meters = _shape(weights, "meter_encoder.0.weight", file, 2)[1]
    affordance = _shape(weights, "affordance_encoder.0.weight", file, 2)[1]
    lstm_hidden = _shape(weights, "lstm.weight_hh_l0", file, 2)[1]
    head, _, actions = _head_options(weights, "q_head", file, hints)
    fields = [
        {"name": "grid", "shape": [window, window]},
        {"name": "position", "shape": [2]},
        {"name": "meters", "shape": [meters]},
        {"name": "affordance", "shape": [affordance]},
        {"name": "temporal", "shape": [TEMPORAL]},
    ]
    first_conv = _shape(weights, "vision_encoder.0.weight", file, 4)[0]
    vision = {"channels": [first_conv, channels], "projection": {"features": projection[0]}}
    network: dict[str, Any] = {
        "vision_encoder": vision,
        "lstm": {"hidden_size": lstm_hidden},
        "q_head": head,
    }
    if "temporal_encoder.0.weight" in weights:  # HAMLET's L3 brain
        width = _shape(weights, "temporal_encoder.0.weight", file, 2)[0]
        network["temporal_encoder"] = {"kind": "mlp", "input": "obs.temporal", "hidden": [width]}
        network["features"] = {"inputs": [*RECURRENT_ENCODERS, "temporal_encoder"]}
    return {
        "extends": "recurrent_spatial_q",
        "name": "recurrent_spatial_q",
        "observation": {"fields": fields, "actions": actions},
        "network": network,
    }


def _head_options(
    weights: StateDict, prefix: str, file: str, hints: Mapping[str, Any]
) -> tuple[dict[str, Any], int, int]:
    """The q_head settings of the weights under ``prefix``: (options, input size, actions)."""
    if f"{prefix}.0.weight" in weights:  # the plain head: an nn.Sequential
        layers = sorted(
            (int(index), key)
            for key in weights
            for index in [_sequential_index(key, prefix)]
            if index is not None
        )
        linears = [_shape(weights, k, file, 2) for _, k in layers if weights[k].dim() == 2]
        norms = [k for _, k in layers if weights[k].dim() == 1]
        if not linears:
            raise mismatch(file, f"no linear layer (2-D weight) found under '{prefix}'")
        head = {
            "hidden": [shape[0] for shape in linears[:-1]],
            "layer_norm": bool(norms),
            "dueling": False,
            "distributional": False,
            "noisy": False,
        }
        return head, linears[0][1], linears[-1][0]
    noisy = any(k.startswith(f"{prefix}.") and k.endswith("weight_mu") for k in weights)
    suffix = "weight_mu" if noisy else "weight"
    hidden, index = [], 0
    while f"{prefix}.hidden_{index}.{suffix}" in weights:
        hidden.append(_shape(weights, f"{prefix}.hidden_{index}.{suffix}", file, 2))
        index += 1
    dueling = f"{prefix}.value.{suffix}" in weights
    output_key = f"{prefix}.advantage.{suffix}" if dueling else f"{prefix}.out.{suffix}"
    if output_key not in weights:
        raise mismatch(file, f"no output layer found under '{prefix}'")
    output = _shape(weights, output_key, file, 2)
    first = hidden[0] if hidden else output
    if dueling:
        atoms = _shape(weights, f"{prefix}.value.{suffix}", file, 2)[0]
        actions = output[0] // atoms
    else:
        actions = int(hints.get("actions") or len(ACTION_NAMES))
        atoms = output[0] // actions
    if actions < 1 or atoms < 1 or actions * atoms != output[0]:
        raise mismatch(file, f"the output layer of '{prefix}' does not split into actions")
    head: dict[str, Any] = {
        "hidden": [shape[0] for shape in hidden],
        "layer_norm": f"{prefix}.norm_0.weight" in weights,
        "dueling": dueling,
        "distributional": False,
        "noisy": {"sigma0": float(hints["sigma0"])} if noisy and hints.get("sigma0") else noisy,
    }
    if atoms > 1:
        head["distributional"] = {
            "atoms": atoms,
            **{k: float(hints[k]) for k in ("v_min", "v_max") if hints.get(k) is not None},
        }
    return head, first[1], actions


def _full_layout(size: int, hints: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Named full-observability fields when the size fits the town's layout, else one."""
    meters = int(hints.get("meter_count") or 8)
    grid_cells = size - meters - AFFORDANCE_SLOTS - TEMPORAL
    side = math.isqrt(grid_cells) if grid_cells > 0 else 0
    if side * side == grid_cells and side > 0:
        return [
            {"name": "grid", "shape": [side, side]},
            {"name": "meters", "shape": [meters]},
            {"name": "affordance", "shape": [AFFORDANCE_SLOTS]},
            {"name": "temporal", "shape": [TEMPORAL]},
        ]
    return [{"name": "features", "shape": [size]}]


def _sequential_index(key: str, prefix: str) -> str | None:
    """``N`` of a key ``<prefix>.N.weight`` (a layer of an nn.Sequential), else None."""
    index, dot, rest = key.removeprefix(f"{prefix}.").partition(".")
    if key.startswith(f"{prefix}.") and dot and rest == "weight" and index.isdigit():
        return index if len(index) < 6 else None
    return None


def head_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    network = spec["network"]
    return network.get("net") or network["q_head"]


def _shape(weights: StateDict, key: str, file: str, dims: int) -> tuple[int, ...]:
    """The shape of ``weights[key]``, which must have ``dims`` dimensions, none empty."""
    if key not in weights:
        raise mismatch(file, f"the tensor '{key}' is missing")
    shape = tuple(weights[key].shape)
    if len(shape) != dims or 0 in shape:
        raise mismatch(
            file,
            path=key,
            message=f"the tensor '{clip(key)}' has shape {list(shape)}; it must have {dims} "
            "dimensions, none of size 0",
        )
    return shape


def mismatch(file: str, message: str, path: str = "") -> CheckpointError:
    return CheckpointError(
        Diagnostic(
            "E207",
            message,
            hint="these weights are not those of a built-in brain as HAMLET knows it",
            file=file,
            path=path,
        )
    )

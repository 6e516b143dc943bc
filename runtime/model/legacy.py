"""Weights that come without a HAMLET spec: reconstruct the spec from what is there.

Three layouts keep loading:

* the original system's version-2 training checkpoints (``population_state.q_network``,
  ``training_config.population.network_type``; townlet-facts §5.2);
* bare state_dicts of the built-in brains (any head variant), told apart by their
  tensor names and sized by their tensor shapes;
* seed 004's ``{model_state_dict, model_config}`` files.

Each becomes a brain spec that extends ``simple_q`` or ``recurrent_spatial_q`` with
the sizes read off the weights, so that the compiled module takes them with
``strict=True``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

from hamlet.schemas.errors import CheckpointError, Diagnostic
from hamlet.schemas.layout import ACTION_NAMES

from .checkpoint import StateDict, entry

AFFORDANCE_SLOTS = 15  # the original's one-hot: 14 affordances and "none"
TEMPORAL = 4
RECURRENT_ENCODERS = ("vision_encoder", "position_encoder", "meter_encoder", "affordance_encoder")


@dataclass
class Recovered:
    """A spec (brain data for the compiler), its weights and what is known about them."""

    spec: dict[str, Any]
    state_dict: StateDict
    metadata: dict[str, Any] = field(default_factory=dict)


def is_original(data: Mapping[str, Any]) -> bool:
    return data.get("version") == 2 and isinstance(data.get("population_state"), Mapping)


def is_seed_004(data: Mapping[str, Any]) -> bool:
    return "model_state_dict" in data and "model_config" in data


def is_state_dict(data: Mapping[str, Any]) -> bool:
    return bool(data) and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in data.items())


def from_original(data: Mapping[str, Any], file: str) -> Recovered:
    """The original system's training checkpoint (version 2)."""
    population = entry(data, "population_state", Mapping, file)
    weights = entry(population, "q_network", Mapping, file)
    config = data.get("training_config") if isinstance(data.get("training_config"), Mapping) else {}
    network_type = (config.get("population") or {}).get("network_type")
    universe = population.get("universe_metadata") or {}
    meter_names = list(universe.get("meter_names") or [])
    hints = {
        "environment": config.get("environment") or {},
        "meter_count": len(meter_names) or None,
    }
    recovered = from_state_dict(dict(weights), file, hints=hints)
    if network_type in ("simple", "recurrent"):
        expected = "simple_q" if network_type == "simple" else "recurrent_spatial_q"
        if recovered.spec["extends"] != expected:
            raise CheckpointError(
                Diagnostic(
                    "E207",
                    f"training_config says network_type '{network_type}', but the weights are "
                    f"those of {recovered.spec['extends']}",
                    file=file,
                    path="population_state.q_network",
                )
            )
    recovered.spec["learning"] = _learning_of(config)
    curriculum = data.get("curriculum_state") or {}
    stages = curriculum.get("agent_stages") if isinstance(curriculum, Mapping) else None
    recovered.metadata.update(
        {
            "source_format": "townlet_v2",
            "episode": data.get("episode"),
            "epsilon": data.get("epsilon"),
            "curriculum_stage": int(stages.flatten()[0]) if isinstance(stages, Tensor) else None,
            "pack": str(data.get("config_dir", "")).rstrip("/").split("/")[-1] or None,
            "meter_names": meter_names or None,
        }
    )
    return recovered


def from_seed_004(data: Mapping[str, Any], file: str) -> Recovered:
    """Seed 004's layout: ``model_state_dict`` plus ``model_config`` flags."""
    weights = entry(data, "model_state_dict", Mapping, file)
    config = entry(data, "model_config", Mapping, file)
    hints = {
        "actions": config.get("n_action"),
        "atoms": config.get("n_atoms"),
        "v_min": config.get("v_min"),
        "v_max": config.get("v_max"),
        "sigma0": config.get("noisy_std_init"),
    }
    recovered = from_state_dict(dict(weights), file, hints=hints)
    head = _head_of(recovered.spec)
    for flag, option in (("dueling_dqn", "dueling"), ("noisy_networks", "noisy")):
        if flag in config and bool(config[flag]) != bool(head.get(option)):
            raise _mismatch(file, f"model_config says {flag}: {config[flag]}, the weights disagree")
    if "distributional_dqn" in config and bool(config["distributional_dqn"]) != bool(
        head.get("distributional")
    ):
        raise _mismatch(file, "model_config's distributional_dqn disagrees with the weights")
    info = data.get("training_info") if isinstance(data.get("training_info"), Mapping) else {}
    plain = {k: v for k, v in _plain(info).items() if k != "episode_idx"}
    recovered.metadata.update(
        {"source_format": "model_config", "episode": info.get("episode_idx"), **plain}
    )
    return recovered


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
            raise _mismatch(file, f"a recurrent network needs {encoder}, which is missing")
    projection = _shape(weights, "vision_encoder.5.weight", file)
    channels = _shape(weights, "vision_encoder.2.weight", file)[0]
    window = math.isqrt(projection[1] // channels)
    if channels * window * window != projection[1]:
        raise _mismatch(file, "vision_encoder.5 does not match a square window")
    meters = _shape(weights, "meter_encoder.0.weight", file)[1]
    affordance = _shape(weights, "affordance_encoder.0.weight", file)[1]
    lstm_hidden = _shape(weights, "lstm.weight_hh_l0", file)[1]
    head, _, actions = _head_options(weights, "q_head", file, hints)
    fields = [
        {"name": "grid", "shape": [window, window]},
        {"name": "position", "shape": [2]},
        {"name": "meters", "shape": [meters]},
        {"name": "affordance", "shape": [affordance]},
        {"name": "temporal", "shape": [TEMPORAL]},
    ]
    first_conv = _shape(weights, "vision_encoder.0.weight", file)[0]
    vision = {"channels": [first_conv, channels], "projection": {"features": projection[0]}}
    network: dict[str, Any] = {
        "vision_encoder": vision,
        "lstm": {"hidden_size": lstm_hidden},
        "q_head": head,
    }
    if "temporal_encoder.0.weight" in weights:  # HAMLET's L3 brain
        width = _shape(weights, "temporal_encoder.0.weight", file)[0]
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
            (int(k.split(".")[1]), v)
            for k, v in weights.items()
            if k.startswith(f"{prefix}.") and k.endswith(".weight") and k.count(".") == 2
        )
        linears = [w for _, w in layers if w.dim() == 2]
        norms = [w for _, w in layers if w.dim() == 1]
        head = {
            "hidden": [w.shape[0] for w in linears[:-1]],
            "layer_norm": bool(norms),
            "dueling": False,
            "distributional": False,
            "noisy": False,
        }
        return head, linears[0].shape[1], linears[-1].shape[0]
    noisy = any(k.startswith(f"{prefix}.") and k.endswith("weight_mu") for k in weights)
    suffix = "weight_mu" if noisy else "weight"
    hidden, index = [], 0
    while f"{prefix}.hidden_{index}.{suffix}" in weights:
        hidden.append(weights[f"{prefix}.hidden_{index}.{suffix}"])
        index += 1
    dueling = f"{prefix}.value.{suffix}" in weights
    output = weights.get(f"{prefix}.advantage.{suffix}" if dueling else f"{prefix}.out.{suffix}")
    if output is None:
        raise _mismatch(file, f"no output layer found under '{prefix}'")
    first = hidden[0] if hidden else output
    if dueling:
        atoms = weights[f"{prefix}.value.{suffix}"].shape[0]
        actions = output.shape[0] // atoms
    else:
        actions = int(hints.get("actions") or len(ACTION_NAMES))
        atoms = output.shape[0] // actions
    if actions * atoms != output.shape[0]:
        raise _mismatch(file, f"the output layer of '{prefix}' does not split into actions")
    head: dict[str, Any] = {
        "hidden": [w.shape[0] for w in hidden],
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
    return head, first.shape[1], actions


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


def _learning_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """The original's hyperparameters, where its training.yaml gave them."""
    population = config.get("population") or {}
    training = config.get("training") or {}
    learning: dict[str, Any] = {}
    for key, value in (
        ("learning_rate", population.get("learning_rate")),
        ("gamma", population.get("gamma")),
        ("batch_size", training.get("batch_size")),
        ("train_frequency", training.get("train_frequency")),
        ("max_grad_norm", training.get("max_grad_norm")),
    ):
        if isinstance(value, int | float) and not isinstance(value, bool):
            learning[key] = value
    if isinstance(population.get("replay_buffer_capacity"), int):
        learning["replay"] = {"capacity": population["replay_buffer_capacity"]}
    if isinstance(training.get("target_update_frequency"), int):
        learning["target_update"] = {"every": training["target_update_frequency"]}
    return learning


def _head_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    network = spec["network"]
    return network.get("net") or network["q_head"]


def _shape(weights: StateDict, key: str, file: str) -> tuple[int, ...]:
    if key not in weights:
        raise _mismatch(file, f"the tensor '{key}' is missing")
    return tuple(weights[key].shape)


def _plain(info: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if isinstance(v, str | int | float | bool)}


def _mismatch(file: str, message: str) -> CheckpointError:
    return CheckpointError(
        Diagnostic(
            "E207",
            message,
            hint="these weights are not those of a built-in brain as HAMLET knows it",
            file=file,
        )
    )

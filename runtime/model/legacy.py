"""Weights that come without a HAMLET spec: reconstruct the spec from what is there.

Three layouts keep loading:

* the original system's version-2 training checkpoints (``population_state.q_network``,
  ``training_config.population.network_type``; townlet-facts §5.2);
* bare state_dicts of the built-in brains (any head variant), told apart by their
  tensor names and sized by their tensor shapes (:mod:`.recovery`);
* seed 004's ``{model_state_dict, model_config}`` files.

Each becomes a brain spec that extends ``simple_q`` or ``recurrent_spatial_q`` with
the sizes read off the weights (:mod:`.recovery`). Every entry of these files that is
read is checked first: their config dicts were typed by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from torch import Tensor

from hamlet.schemas.errors import CheckpointError, Diagnostic

from .entries import (
    check_tensor,
    count,
    entry,
    entry_error,
    join,
    kind,
    names,
    optional,
    probability,
)
from .metadata import check_metadata
from .recovery import Recovered, from_state_dict, head_of, mismatch
from .tensors import tensor_map


def is_original(data: Mapping[str, Any]) -> bool:
    version = data.get("version")
    return (
        isinstance(version, int)
        and not isinstance(version, bool)
        and version == 2
        and isinstance(data.get("population_state"), Mapping)
    )


def is_seed_004(data: Mapping[str, Any]) -> bool:
    return "model_state_dict" in data and "model_config" in data


def is_state_dict(data: Mapping[str, Any]) -> bool:
    return bool(data) and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in data.items())


def from_original(data: Mapping[str, Any], file: str) -> Recovered:
    """The original system's training checkpoint (version 2). Every entry read is
    checked: its config dicts are the original's YAML, as typed by hand."""
    population = entry(data, "population_state", Mapping, file)
    key = "population_state.q_network"
    weights = tensor_map(
        entry(population, "q_network", Mapping, file, "population_state"), file, key
    )
    config = _section(data, "training_config", file)
    population_config = _section(config, "population", file, "training_config")
    network_type = optional(
        population_config, "network_type", str, file, "training_config.population"
    )
    universe = _section(population, "universe_metadata", file, "population_state")
    meter_names = (
        names(universe["meter_names"], file, "population_state.universe_metadata.meter_names")
        if universe.get("meter_names") is not None
        else []
    )
    recovered = from_state_dict(weights, file, hints={"meter_count": len(meter_names) or None})
    if network_type in ("simple", "recurrent"):
        expected = "simple_q" if network_type == "simple" else "recurrent_spatial_q"
        if recovered.spec["extends"] != expected:
            raise CheckpointError(
                Diagnostic(
                    "E207",
                    f"training_config says network_type '{network_type}', but the weights are "
                    f"those of {recovered.spec['extends']}",
                    file=file,
                    path=key,
                )
            )
    training = _section(config, "training", file, "training_config")
    recovered.spec["learning"] = _learning_of(population_config, training)
    curriculum = _section(data, "curriculum_state", file)
    episode, epsilon = data.get("episode"), data.get("epsilon")
    config_dir = optional(data, "config_dir", str, file)
    recovered.metadata.update(
        {
            "source_format": "townlet_v2",
            "episode": count(episode, file, "episode") if episode is not None else None,
            "epsilon": probability(epsilon, file, "epsilon") if epsilon is not None else None,
            "curriculum_stage": _stage(curriculum.get("agent_stages"), file),
            "pack": (config_dir or "").rstrip("/").split("/")[-1] or None,
            "meter_names": meter_names or None,
        }
    )
    return recovered


def from_seed_004(data: Mapping[str, Any], file: str) -> Recovered:
    """Seed 004's layout: ``model_state_dict`` plus ``model_config`` flags."""
    weights = tensor_map(entry(data, "model_state_dict", Mapping, file), file, "model_state_dict")
    config = entry(data, "model_config", Mapping, file)
    hints = {
        "actions": _number(config, "n_action", file, whole=True),
        "v_min": _number(config, "v_min", file),
        "v_max": _number(config, "v_max", file),
        "sigma0": _number(config, "noisy_std_init", file),
    }
    flags = {flag: optional(config, flag, bool, file, "model_config") for flag in SEED_004_FLAGS}
    recovered = from_state_dict(weights, file, hints=hints)
    head = head_of(recovered.spec)
    for flag, option in SEED_004_FLAGS.items():
        if flags[flag] is not None and flags[flag] != bool(head.get(option)):
            raise mismatch(file, f"model_config says {flag}: {flags[flag]}, the weights disagree")
    info = _section(data, "training_info", file)
    plain = check_metadata(
        {k: v for k, v in _plain(info).items() if k != "episode_idx"}, file, "training_info"
    )
    episode = info.get("episode_idx")
    recovered.metadata.update(
        {
            "source_format": "model_config",
            "episode": count(episode, file, "training_info.episode_idx")
            if episode is not None
            else None,
            **plain,
        }
    )
    return recovered


SEED_004_FLAGS = {
    "dueling_dqn": "dueling",
    "noisy_networks": "noisy",
    "distributional_dqn": "distributional",
}
"""Seed 004's ``model_config`` flags and the head option each must agree with."""


def _learning_of(population: Mapping[str, Any], training: Mapping[str, Any]) -> dict[str, Any]:
    """The original's hyperparameters, where its training.yaml gave them (values of
    other types are left out; the compiler checks the ranges of those given)."""
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
    if _whole(population.get("replay_buffer_capacity")):
        learning["replay"] = {"capacity": population["replay_buffer_capacity"]}
    if _whole(training.get("target_update_frequency")):
        learning["target_update"] = {"every": training["target_update_frequency"]}
    return learning


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _section(data: Mapping[str, Any], key: str, file: str, prefix: str = "") -> Mapping[str, Any]:
    """The dict ``data[key]``, or an empty one when absent (E204 if not a dict)."""
    return optional(data, key, Mapping, file, prefix) or {}


def _number(config: Mapping[str, Any], key: str, file: str, *, whole: bool = False) -> Any:
    """A finite number of ``model_config`` (> 0 when ``whole``), or None when absent."""
    value = config.get(key)
    if value is None:
        return None
    path = join("model_config", key)
    if whole:
        if count(value, file, path) == 0:
            raise entry_error(file, path, f"'{path}' is 0; it must be at least 1")
        return value
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise entry_error(file, path, f"'{path}' is {kind(value)}; it must be a finite number")
    return value


def _stage(stages: Any, file: str) -> int | None:
    """The first agent's curriculum stage, from the original's ``agent_stages`` tensor."""
    if stages is None:
        return None
    path = "curriculum_state.agent_stages"
    if not isinstance(stages, Tensor) or stages.numel() == 0 or stages.is_complex():
        raise entry_error(file, path, f"'{path}' is {kind(stages)}; it must be a tensor of stages")
    check_tensor(stages, file, path)
    first = stages[(0,) * stages.dim()].item()
    if isinstance(first, float) and not (math.isfinite(first) and first.is_integer()):
        raise entry_error(file, path, f"'{path}' holds {first}, which is not a stage")
    return count(int(first), file, path)


def _plain(info: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if isinstance(v, str | int | float | bool)}

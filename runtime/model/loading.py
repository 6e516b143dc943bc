"""Turn any known checkpoint file into a compiled brain with its weights loaded.

The format decides how the brain spec is found: stored (``inference_v1``,
``training_v2``, safetensors), rebuilt from ``network_params`` (seed 001's fallback),
or read off the tensors (the original system's checkpoints, bare state_dicts, seed
004's files; see :mod:`.legacy`). Whatever the format, every entry is checked before
it is used, and the weights as :mod:`.tensors` says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from hamlet.compiler import CompiledBrain
from hamlet.runtime.export import read_safetensors
from hamlet.schemas.errors import CheckpointError, Diagnostic

from . import legacy
from .brains import compile_recovered, compile_stored, network_on_meta
from .checkpoint import FORMATS, INFERENCE_FORMAT, TRAINING_FORMAT, training_from_data
from .device import resolve_device
from .entries import clip, count, entry, entry_error, kind, optional, shown
from .metadata import check_metadata
from .reading import check_file, read_file
from .recovery import from_state_dict
from .tensors import StateDict, checked_weights, tensor_map

NETWORK_TYPES = {"simple": "simple_q", "recurrent": "recurrent_spatial_q"}
"""Seed 001's ``network_params.network_type``: the built-in brain of each."""


@dataclass
class Loaded:
    """What a checkpoint file held, ready to use."""

    brain: CompiledBrain
    module: torch.nn.Module
    """The network, holding the file's weights, on the requested device."""
    metadata: dict[str, Any]
    format: str
    """inference_v1, training_v2, safetensors, townlet_v2, model_config or state_dict."""


def load_model_parts(
    path: str | Path, device: str | torch.device, allow_hash_mismatch: bool
) -> Loaded:
    """The compiled brain, its module with the weights and the metadata of a file."""
    device = resolve_device(device)  # E300/E301 here, not a misleading E201 from torch.load
    path, file = check_file(path)
    if path.suffix == ".safetensors":
        return _from_safetensors(path, device, file, allow_hash_mismatch)
    data = read_file(path, device)
    if not isinstance(data, Mapping):
        raise _unknown(file, f"it holds {kind(data)}, not a dict")
    fmt = data.get("format_version")
    if fmt is not None and not isinstance(fmt, str):
        raise _unknown(file, f"its format_version is {kind(fmt)}, not a format's name")
    if fmt == INFERENCE_FORMAT:
        return _from_inference(data, file, allow_hash_mismatch)
    if fmt == TRAINING_FORMAT:
        checkpoint, brain = training_from_data(data, file, allow_hash_mismatch=allow_hash_mismatch)
        metadata = dict(checkpoint.metadata)
        metadata.setdefault("episode", checkpoint.counters["episode"])
        module = _holding(brain, checkpoint.online)
        return Loaded(brain, module, metadata, TRAINING_FORMAT)
    if fmt is not None:
        raise CheckpointError(
            Diagnostic(
                "E203",
                f"unknown checkpoint format_version {shown(fmt, 80)}",
                hint=f"this HAMLET reads {', '.join(FORMATS)}; a newer HAMLET may read it",
                file=file,
                path="format_version",
            )
        )
    if legacy.is_original(data):
        recovered = legacy.from_original(data, file)
        key = "population_state.q_network"
    elif legacy.is_seed_004(data):
        recovered = legacy.from_seed_004(data, file)
        key = "model_state_dict"
    elif legacy.is_state_dict(data):
        recovered = from_state_dict(tensor_map(data, file, ""), file)
        key = ""  # the tensors are the file's top-level entries
    else:
        names = sorted(k for k in data if isinstance(k, str))
        keys = ", ".join(clip(k, 40) for k in names[:8]) or "none that are names"
        raise _unknown(file, f"its keys ({keys}) match no checkpoint format")
    brain = compile_recovered(recovered.spec, file)
    module = build_module(brain, recovered.state_dict, file, key)
    metadata = {k: v for k, v in recovered.metadata.items() if v is not None}
    return Loaded(brain, module, metadata, metadata.get("source_format", "state_dict"))


def build_module(
    brain: CompiledBrain,
    weights: Mapping[str, Any],
    file: str,
    key: str,
    *,
    digest: Any = None,
    digest_path: str = "weights_digest",
    allow_mismatch: bool = False,
) -> torch.nn.Module:
    """The brain's module holding exactly ``weights``, checked as :mod:`.tensors` says.

    The module is built on the meta device and takes the tensors as they are, so
    loading does not pay for a random initialisation it would overwrite.
    """
    module = network_on_meta(brain)
    checked = checked_weights(
        module.state_dict(),
        weights,
        file,
        key,
        digest=digest,
        digest_path=digest_path,
        allow_mismatch=allow_mismatch,
    )
    module.load_state_dict(checked, strict=True, assign=True)
    return module


def _holding(brain: CompiledBrain, weights: StateDict) -> torch.nn.Module:
    """The brain's module holding weights that were checked already."""
    module = network_on_meta(brain)
    module.load_state_dict(weights, strict=True, assign=True)
    return module


def _from_inference(data: Mapping[str, Any], file: str, allow_mismatch: bool) -> Loaded:
    weights = entry(data, "state_dict", Mapping, file)
    metadata = data.get("metadata")
    metadata = check_metadata(metadata if metadata is not None else {}, file)
    optional(data, "created_at", str, file)
    if "brain_spec" in data:
        spec = entry(data, "brain_spec", Mapping, file)
        brain = compile_stored(spec, data.get("brain_spec_hash"), file, allow_mismatch)
    else:
        params = entry(data, "network_params", Mapping, file)
        brain = compile_recovered(_from_network_params(params, weights, file), file)
    module = build_module(
        brain,
        weights,
        file,
        "state_dict",
        digest=data.get("weights_digest"),
        allow_mismatch=allow_mismatch,
    )
    return Loaded(brain, module, metadata, INFERENCE_FORMAT)


def _from_safetensors(
    path: Path, device: str | torch.device, file: str, allow_mismatch: bool
) -> Loaded:
    stored = read_safetensors(path, device, file)
    prefix = "__metadata__.hamlet."
    paths = (f"{prefix}brain_spec", f"{prefix}spec_hash")
    brain = compile_stored(stored.brain_spec, stored.spec_hash, file, allow_mismatch, paths)
    metadata = check_metadata(stored.metadata, file, f"{prefix}metadata")
    module = build_module(
        brain,
        stored.weights,
        file,
        "tensors",
        digest=stored.weights_digest,
        digest_path=f"{prefix}weights_digest",
        allow_mismatch=allow_mismatch,
    )
    return Loaded(brain, module, metadata, "safetensors")


def _from_network_params(params: Mapping[str, Any], weights: Any, file: str) -> dict[str, Any]:
    """Seed 001's fallback: rebuild from the tensors, checked against ``network_params``."""
    actions = params.get("action_dim")
    if actions is not None and count(actions, file, "network_params.action_dim") == 0:
        raise entry_error(file, "network_params.action_dim", "'network_params.action_dim' is 0")
    recovered = from_state_dict(
        tensor_map(weights, file, "state_dict"), file, hints={"actions": actions}
    )
    network_type = params.get("network_type")
    expected = NETWORK_TYPES.get(network_type) if isinstance(network_type, str) else None
    if expected is None or recovered.spec["extends"] != expected:
        raise CheckpointError(
            Diagnostic(
                "E207",
                f"network_params says network_type {shown(network_type)}, which does not "
                "match the weights",
                file=file,
                path="network_params.network_type",
            )
        )
    return recovered.spec


def _unknown(file: str, why: str) -> CheckpointError:
    return CheckpointError(
        Diagnostic(
            "E203",
            f"{file} is not a checkpoint HAMLET knows: {why}",
            hint="HAMLET reads its own inference and training checkpoints, the original "
            "system's training checkpoints, safetensors exports and bare built-in weights",
            file=file,
        )
    )

"""Turn any known checkpoint file into a compiled brain with its weights loaded.

The format decides how the brain spec is found: stored (``inference_v1``,
``training_v2``, safetensors), rebuilt from ``network_params`` (seed 001's fallback),
or read off the tensors (the original system's checkpoints, bare state_dicts, seed
004's files; see :mod:`.legacy`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from hamlet.compiler import CompiledBrain, SpecError, brain_from_data, compile_brain
from hamlet.runtime.export import read_safetensors
from hamlet.schemas.errors import CheckpointError, Diagnostic
from hamlet.schemas.source import display_path

from . import legacy
from .checkpoint import (
    FORMATS,
    INFERENCE_FORMAT,
    TRAINING_FORMAT,
    check_tensors,
    entry,
    read_file,
)


class HashMismatchWarning(UserWarning):
    """A checkpoint was loaded although its spec does not match its stored hash."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


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
    file = display_path(path)
    if str(path).endswith(".safetensors"):
        spec, stored_hash, weights, metadata = read_safetensors(Path(path), device, file)
        brain = _compile_stored(spec, stored_hash, file, allow_hash_mismatch)
        return Loaded(brain, build_module(brain, weights, file, "tensors"), metadata, "safetensors")
    data = read_file(path, device)
    if not isinstance(data, Mapping):
        raise _unknown(file, f"it holds a {type(data).__name__}, not a dict")
    fmt = data.get("format_version")
    if fmt == INFERENCE_FORMAT:
        weights = entry(data, "state_dict", Mapping, file)
        metadata = dict(data.get("metadata") or {})
        if "brain_spec" in data:
            spec = entry(data, "brain_spec", Mapping, file)
            brain = _compile_stored(spec, data.get("brain_spec_hash"), file, allow_hash_mismatch)
        else:
            params = entry(data, "network_params", Mapping, file)
            brain = _compile_recovered(_from_network_params(params, weights, file), file)
        module = build_module(brain, weights, file, "state_dict")
        return Loaded(brain, module, metadata, INFERENCE_FORMAT)
    if fmt == TRAINING_FORMAT:
        spec = entry(data, "brain_spec", Mapping, file)
        brain = _compile_stored(spec, data.get("brain_spec_hash"), file, allow_hash_mismatch)
        weights = entry(data, "online", Mapping, file)
        metadata = dict(data.get("metadata") or {})
        counters = data.get("counters") if isinstance(data.get("counters"), Mapping) else {}
        metadata.setdefault("episode", counters.get("episode"))
        return Loaded(
            brain, build_module(brain, weights, file, "online"), metadata, TRAINING_FORMAT
        )
    if fmt is not None:
        raise CheckpointError(
            Diagnostic(
                "E203",
                f"unknown checkpoint format_version {fmt!r}",
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
        recovered = legacy.from_state_dict(dict(data), file)
        key = "(state_dict)"
    else:
        keys = ", ".join(sorted(str(k) for k in data)[:8])
        raise _unknown(file, f"its keys ({keys}) match no checkpoint format")
    brain = _compile_recovered(recovered.spec, file)
    module = build_module(brain, recovered.state_dict, file, key)
    metadata = {k: v for k, v in recovered.metadata.items() if v is not None}
    return Loaded(brain, module, metadata, metadata.get("source_format", "state_dict"))


def build_module(
    brain: CompiledBrain, weights: Mapping[str, Any], file: str, key: str
) -> torch.nn.Module:
    """The brain's module holding exactly ``weights`` (checked by name and shape).

    The module is built on the meta device and takes the tensors as they are, so
    loading does not pay for a random initialisation it would overwrite.
    """
    with torch.device("meta"):
        module = brain.module_class()
    check_tensors(module.state_dict(), weights, file, key)
    module.load_state_dict(dict(weights), strict=True, assign=True)
    return module


def _compile_stored(
    spec: Mapping[str, Any], stored_hash: Any, file: str, allow_mismatch: bool
) -> CompiledBrain:
    try:
        brain = compile_brain(brain_from_data(dict(spec), file=f"{file} (brain_spec)"))
    except SpecError as error:
        raise CheckpointError(
            Diagnostic(
                "E204",
                f"the checkpoint's brain_spec is not a valid brain: {error.errors[0].message}",
                hint="the file is damaged, or was written by a newer HAMLET",
                file=file,
                path="brain_spec",
            )
        ) from None
    if stored_hash != brain.spec_hash:
        diagnostic = Diagnostic(
            "E206",
            f"the stored brain_spec_hash {stored_hash} does not match the spec it stores "
            f"({brain.spec_hash})",
            hint="the spec was changed after saving, or the file is damaged; to load it "
            "anyway pass allow_hash_mismatch=True (CLI: --allow-hash-mismatch)",
            file=file,
            path="brain_spec_hash",
        )
        if not allow_mismatch:
            raise CheckpointError(diagnostic)
        loaded_anyway = replace(
            diagnostic, severity="warning", hint="loaded anyway, as allow_hash_mismatch asked"
        )
        warnings.warn(HashMismatchWarning(loaded_anyway), stacklevel=4)
    return brain


def _compile_recovered(spec: dict[str, Any], file: str) -> CompiledBrain:
    try:
        return compile_brain(brain_from_data(spec, file=f"{file} (recovered spec)"))
    except SpecError as error:
        raise CheckpointError(
            Diagnostic(
                "E207",
                f"the weights imply a network HAMLET cannot build: {error.errors[0].message}",
                file=file,
            )
        ) from None


def _from_network_params(params: Mapping[str, Any], weights: Any, file: str) -> dict[str, Any]:
    """Seed 001's fallback: rebuild from the tensors, checked against ``network_params``."""
    hints = {"actions": params.get("action_dim")}
    recovered = legacy.from_state_dict(dict(weights), file, hints=hints)
    kind = params.get("network_type")
    expected = {"simple": "simple_q", "recurrent": "recurrent_spatial_q"}.get(str(kind))
    if expected is None or recovered.spec["extends"] != expected:
        raise CheckpointError(
            Diagnostic(
                "E207",
                f"network_params says network_type {kind!r}, which does not match the weights",
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

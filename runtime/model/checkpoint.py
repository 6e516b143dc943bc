"""Checkpoint files: self-describing inference checkpoints and complete training ones.

Both are ``torch.save`` dicts and are only ever read with ``weights_only=True``, so a
file cannot run code when it is loaded. Writes are atomic: the file appears under
its final name only once it is complete.

* ``inference_v1`` (``model_epNNNNNN.pt``): the resolved brain spec and its hash,
  the network's weights with their digest, and metadata; everything needed to
  predict, nothing else.
* ``training_v2`` (``checkpoint_epNNNNNN.pt``): both networks (each with its digest),
  the optimizer, the counters and the config, with room for replay, RNG, curriculum
  and exploration state, so that training can resume exactly.

Reading checks every entry (:mod:`.entries`, :mod:`.metadata`), the spec against its
hash (:mod:`.brains`) and the weights against their digest and the network
(:mod:`.tensors`); a file written before digests existed loads without that check.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import torch

from hamlet.compiler import CompiledBrain
from hamlet.runtime.export import weights_digest
from hamlet.runtime.files import write_atomically
from hamlet.schemas.errors import CheckpointError, Diagnostic

from .brains import compile_stored, network_on_meta
from .device import resolve_device
from .entries import (
    MAX_STATE_ITEMS,
    check_plain,
    count,
    entry,
    entry_error,
    join,
    kind,
    optional,
    shown,
    string_map,
)
from .metadata import check_metadata
from .reading import file_name, read_file
from .tensors import StateDict, check_finite, checked_weights

INFERENCE_FORMAT = "inference_v1"
TRAINING_FORMAT = "training_v2"
FORMATS = (INFERENCE_FORMAT, TRAINING_FORMAT)


def hamlet_version() -> str:
    return version("hamlet")


def now() -> str:
    """Creation time of a checkpoint: ISO 8601, UTC."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def inference_name(episode: int) -> str:
    return f"model_ep{episode:06d}.pt"


def training_name(episode: int) -> str:
    return f"checkpoint_ep{episode:06d}.pt"


@dataclass
class InferenceCheckpoint:
    """What a trained brain needs to act: spec, weights and where they came from."""

    state_dict: StateDict
    brain_spec: dict[str, Any] | None
    """The resolved brain spec (None only in the ``network_params`` fallback)."""
    brain_spec_hash: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    """episode, epsilon, curriculum_stage, pack, observation_layout, action_names,
    meter_names, hamlet_version (whatever of these is known)."""
    created_at: str = field(default_factory=now)
    network_params: dict[str, Any] | None = None
    """Seed 001's fallback where no spec exists: network_type, obs_dim, action_dim..."""

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format_version": INFERENCE_FORMAT,
            "state_dict": self.state_dict,
            "weights_digest": weights_digest(self.state_dict),
            "metadata": self.metadata,
            "created_at": self.created_at,
        }
        if self.brain_spec is not None:
            data["brain_spec"] = self.brain_spec
            data["brain_spec_hash"] = self.brain_spec_hash
        if self.network_params is not None:
            data["network_params"] = self.network_params
        return data


@dataclass
class TrainingCheckpoint:
    """Everything needed to resume training exactly where it stopped."""

    brain_spec: dict[str, Any]
    brain_spec_hash: str
    online: StateDict
    """Weights of the network being trained."""
    target: StateDict
    """Weights of the target network."""
    optimizer: dict[str, Any]
    counters: dict[str, int]
    """episode, total_steps, gradient_steps, ..."""
    config: dict[str, str]
    """Snapshot of the config pack: file name -> its YAML text (comments kept; text
    also loads far faster than the same data as nested dicts)."""
    metadata: dict[str, Any] = field(default_factory=dict)
    replay: dict[str, Any] | None = None
    rng: dict[str, Any] | None = None
    curriculum: dict[str, Any] | None = None
    exploration: dict[str, Any] | None = None
    world: dict[str, Any] | None = None
    """The world and the episodes in progress (agents finish episodes at different
    times, so a checkpoint falls in the middle of most of them)."""
    created_at: str = field(default_factory=now)

    def payload(self) -> dict[str, Any]:
        return {
            "format_version": TRAINING_FORMAT,
            "brain_spec": self.brain_spec,
            "brain_spec_hash": self.brain_spec_hash,
            "online": self.online,
            "weights_digest": weights_digest(self.online),
            "target": self.target,
            "target_digest": weights_digest(self.target),
            "optimizer": self.optimizer,
            "counters": self.counters,
            "config": self.config,
            "metadata": self.metadata,
            "replay": self.replay,
            "rng": self.rng,
            "curriculum": self.curriculum,
            "exploration": self.exploration,
            "world": self.world,
            "created_at": self.created_at,
        }

    def inference(self) -> InferenceCheckpoint:
        """The inference checkpoint of the online network (what ``hamlet migrate`` writes)."""
        metadata = dict(self.metadata)
        metadata.setdefault("episode", self.counters.get("episode"))
        return InferenceCheckpoint(self.online, self.brain_spec, self.brain_spec_hash, metadata)


def save_checkpoint(checkpoint: InferenceCheckpoint | TrainingCheckpoint, path: str | Path) -> Path:
    """Write a checkpoint atomically (temporary file, fsync, rename). Its metadata must
    be what loading accepts (E204 otherwise): a checkpoint is never written that HAMLET
    could not read back."""
    path = Path(path)
    check_metadata(checkpoint.metadata, file_name(path))
    write_atomically(path, lambda handle: torch.save(checkpoint.payload(), handle))
    return path


# --- reading ----------------------------------------------------------------------------

Required = Mapping[str, type | tuple[type, ...]]
"""Entry paths (``"rng.act"``: the key ``act`` of the dict ``rng``) that a caller needs,
each with the type(s) it must have."""
OPTIONAL_STATES = ("replay", "rng", "curriculum", "exploration", "world")


def load_training_checkpoint(
    path: str | Path,
    device: str | torch.device = "cpu",
    *,
    allow_hash_mismatch: bool = False,
    required: Required | None = None,
) -> TrainingCheckpoint:
    """Read a ``training_v2`` checkpoint, every entry checked as :meth:`HamletModel.load
    <hamlet.runtime.HamletModel.load>` checks a model's.

    The spec must compile and match its hash (E206), both networks must fit it and match
    their digests (E208; allow both mismatches, with warnings, by ``allow_hash_mismatch``),
    hold finite values (E209), counters must be whole numbers >= 0 (``episode`` is
    required), the config text, the states plain data; a missing or mistyped entry is
    E204 with its path. ``required`` adds the entries a resumer reads, such as
    ``{"counters.env_steps": int, "rng.act": torch.Tensor}``.
    """
    data = read_file(path, resolve_device(device))
    checkpoint, _ = training_from_data(
        data, file_name(path), allow_hash_mismatch=allow_hash_mismatch, required=required
    )
    return checkpoint


def training_from_data(
    data: Any,
    file: str,
    *,
    allow_hash_mismatch: bool = False,
    required: Required | None = None,
) -> tuple[TrainingCheckpoint, CompiledBrain]:
    """A loaded file's ``training_v2`` contents, checked, and the brain they are of."""
    fmt = data.get("format_version") if isinstance(data, Mapping) else None
    if fmt != TRAINING_FORMAT:
        raise CheckpointError(
            Diagnostic(
                "E203",
                f"{file} is not a {TRAINING_FORMAT} checkpoint (format_version: {shown(fmt)})",
                hint="resume from a checkpoint_epNNNNNN.pt that HAMLET's trainer wrote",
                file=file,
                path="format_version",
            )
        )
    spec = entry(data, "brain_spec", Mapping, file)
    brain = compile_stored(spec, data.get("brain_spec_hash"), file, allow_hash_mismatch)
    expected = network_on_meta(brain).state_dict()

    def weights(key: str, digest: str) -> StateDict:
        value = entry(data, key, Mapping, file)
        return checked_weights(
            expected,
            value,
            file,
            key,
            digest=data.get(digest),
            digest_path=digest,
            allow_mismatch=allow_hash_mismatch,
        )

    online, target = weights("online", "weights_digest"), weights("target", "target_digest")
    optimizer = entry(data, "optimizer", Mapping, file)
    check_plain(optimizer, file, "optimizer", json_only=False, limit=MAX_STATE_ITEMS)
    _check_optimizer(optimizer, file)
    counters = _counters(entry(data, "counters", Mapping, file), file)
    states = {}
    for key in OPTIONAL_STATES:
        states[key] = optional(data, key, Mapping, file)
        if states[key] is not None:
            check_plain(states[key], file, key, json_only=False, limit=MAX_STATE_ITEMS)
    metadata = data.get("metadata")
    checkpoint = TrainingCheckpoint(
        brain_spec=dict(spec),
        brain_spec_hash=data["brain_spec_hash"],
        online=online,
        target=target,
        optimizer=dict(optimizer),
        counters=counters,
        config=string_map(entry(data, "config", Mapping, file), file, "config"),
        metadata=check_metadata(metadata if metadata is not None else {}, file),
        created_at=optional(data, "created_at", str, file) or "",
        **{key: dict(value) if value is not None else None for key, value in states.items()},
    )
    _check_required(data, required or {}, file)
    return checkpoint, brain


def _check_optimizer(optimizer: Mapping[str, Any], file: str) -> None:
    """A torch optimizer's state_dict: its per-parameter state finite (E209), as the
    weights it was computed from must be."""
    optional(optimizer, "param_groups", list, file, "optimizer")
    state = optional(optimizer, "state", Mapping, file, "optimizer") or {}
    for parameter, values in state.items():
        where = join("optimizer.state", parameter)
        if not isinstance(values, Mapping):
            raise entry_error(file, where, f"'{where}' is {kind(values)}; it must be a dict")
        tensors = {
            k: v for k, v in values.items() if isinstance(k, str) and isinstance(v, torch.Tensor)
        }
        check_finite(tensors, file, where)


def _counters(value: Mapping[Any, Any], file: str) -> dict[str, int]:
    for key, number in value.items():
        if not isinstance(key, str):
            raise entry_error(file, "counters", f"'counters' has a key that is {kind(key)}")
        count(number, file, join("counters", key))
    if "episode" not in value:
        raise entry_error(
            file, "counters.episode", "the checkpoint's 'counters.episode' is missing"
        )
    return dict(value)


def _check_required(data: Mapping[str, Any], required: Required, file: str) -> None:
    for path, types in required.items():
        value: Any = data
        for key in path.split("."):
            if not isinstance(value, Mapping) or key not in value:
                raise entry_error(
                    file, path, f"the checkpoint's '{path}' is missing; resuming needs it"
                )
            value = value[key]
        if not isinstance(value, types) or (isinstance(value, bool) and types is int):
            wanted = " or ".join(
                t.__name__ for t in (types if isinstance(types, tuple) else (types,))
            )
            raise entry_error(
                file, path, f"the checkpoint's '{path}' is {kind(value)}; resuming needs {wanted}"
            )

"""Checkpoint files: self-describing inference checkpoints and complete training ones.

Both are ``torch.save`` dicts and are only ever read with ``weights_only=True``, so a
file cannot run code when it is loaded. Writes are atomic: the file appears under
its final name only once it is complete.

* ``inference_v1`` (``model_epNNNNNN.pt``): the resolved brain spec and its hash,
  the network's weights and metadata; everything needed to predict, nothing else.
* ``training_v2`` (``checkpoint_epNNNNNN.pt``): both networks, the optimizer, the
  counters and the config, with room for replay, RNG, curriculum and exploration
  state, so that training can resume exactly.
"""

from __future__ import annotations

import datetime
import pickle
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.files import write_atomically
from hamlet.schemas.errors import CheckpointError, Diagnostic
from hamlet.schemas.source import display_path

INFERENCE_FORMAT = "inference_v1"
TRAINING_FORMAT = "training_v2"
FORMATS = (INFERENCE_FORMAT, TRAINING_FORMAT)

StateDict = dict[str, Tensor]


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
            "target": self.target,
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
    """Write a checkpoint atomically (temporary file, fsync, rename)."""
    path = Path(path)
    write_atomically(path, lambda handle: torch.save(checkpoint.payload(), handle))
    return path


# --- reading ----------------------------------------------------------------------------


def load_training_checkpoint(
    path: str | Path, device: str | torch.device = "cpu"
) -> TrainingCheckpoint:
    """Read a ``training_v2`` checkpoint, every required entry checked (E203/E204)."""
    file = display_path(path)
    data = read_file(path, device)
    fmt = data.get("format_version") if isinstance(data, Mapping) else None
    if fmt != TRAINING_FORMAT:
        raise CheckpointError(
            Diagnostic(
                "E203",
                f"{file} is not a {TRAINING_FORMAT} checkpoint (format_version: {fmt!r})",
                hint="resume from a checkpoint_epNNNNNN.pt that HAMLET's trainer wrote",
                file=file,
                path="format_version",
            )
        )
    optional = {
        key: entry(data, key, Mapping, file) if data.get(key) is not None else None
        for key in ("replay", "rng", "curriculum", "exploration", "world")
    }
    return TrainingCheckpoint(
        brain_spec=dict(entry(data, "brain_spec", Mapping, file)),
        brain_spec_hash=entry(data, "brain_spec_hash", str, file),
        online=dict(entry(data, "online", Mapping, file)),
        target=dict(entry(data, "target", Mapping, file)),
        optimizer=dict(entry(data, "optimizer", Mapping, file)),
        counters=dict(entry(data, "counters", Mapping, file)),
        config=dict(entry(data, "config", Mapping, file)),
        metadata=dict(data.get("metadata") or {}),
        created_at=str(data.get("created_at", "")),
        **{k: dict(v) if v is not None else None for k, v in optional.items()},
    )


def read_file(path: str | Path, device: str | torch.device = "cpu") -> Any:
    """``torch.load`` with ``weights_only=True``, every failure a :class:`CheckpointError`."""
    path = Path(path)
    name = display_path(path)
    if not path.is_file():
        raise CheckpointError(
            Diagnostic("E200", f"no such checkpoint: {name}", hint="check the path", file=name)
        )
    export = _export_kind(path)
    if export is not None:
        raise CheckpointError(
            Diagnostic(
                "E203",
                f"{name} is a {export} export, not a checkpoint",
                hint=_EXPORT_HINTS[export],
                file=name,
            )
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own advice (weights_only=False) is unsafe
            return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if "Weights only load failed" in text and ("GLOBAL" in text or "global" in text):
            raise CheckpointError(
                Diagnostic(
                    "E202",
                    f"{name} carries pickled Python objects that could run code when "
                    f"loaded ({_culprit(text)}); it was refused",
                    hint="only load files you trust; if you do trust it, re-save it as plain "
                    "tensors and dicts with the code that wrote it",
                    file=name,
                )
            ) from None
        raise _corrupt(name, text) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _corrupt(name, str(exc)) from None


_EXPORT_HINTS = {
    "TorchScript": "load it with torch.jit.load; HAMLET reads the checkpoint it came from",
    "ONNX": "run it with onnxruntime; HAMLET reads the checkpoint it came from",
}


def _export_kind(path: Path) -> str | None:
    """'TorchScript' or 'ONNX' when the file is one of those exports."""
    if path.suffix == ".onnx":
        return "ONNX"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if any(name.split("/", 1)[-1].startswith("code/") for name in archive.namelist()):
                return "TorchScript"
    return None


def _corrupt(name: str, reason: str) -> CheckpointError:
    first = reason.strip().splitlines()[0] if reason.strip() else "unreadable"
    return CheckpointError(
        Diagnostic(
            "E201",
            f"{name} is truncated or not a PyTorch checkpoint ({first})",
            hint="the file may be incomplete (an interrupted copy?); use another checkpoint",
            file=name,
        )
    )


def _culprit(message: str) -> str:
    for line in message.splitlines():
        if "Unsupported global" in line or "GLOBAL" in line:
            return line.strip().rstrip(".")
    return "an unsupported object"


def entry(data: Mapping[str, Any], key: str, kind: type, file: str) -> Any:
    """``data[key]``, which must be a ``kind``; otherwise a clear E204."""
    value = data.get(key)
    if not isinstance(value, kind):
        found = "missing" if key not in data else f"a {type(value).__name__}"
        expected = "dict" if kind is Mapping else kind.__name__
        raise CheckpointError(
            Diagnostic(
                "E204",
                f"the checkpoint's '{key}' is {found}; its format needs a {expected}",
                hint="the file is damaged or was written by other software",
                file=file,
                path=key,
            )
        )
    return value


def check_tensors(
    expected: Mapping[str, Tensor], given: Mapping[str, Any], file: str, key: str
) -> None:
    """Raise E205 listing missing, unexpected and mis-shaped tensors (each sorted)."""
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    misshaped = sorted(
        f"{k} {list(given[k].shape)} (network: {list(expected[k].shape)})"
        for k in set(expected) & set(given)
        if not isinstance(given[k], Tensor) or given[k].shape != expected[k].shape
    )
    if not (missing or unexpected or misshaped):
        return
    parts = []
    for label, names in (
        ("missing", missing),
        ("unexpected", unexpected),
        ("mis-shaped", misshaped),
    ):
        if names:
            shown = ", ".join(names[:8]) + (
                f", ... ({len(names)} in all)" if len(names) > 8 else ""
            )
            parts.append(f"{label}: {shown}")
    raise CheckpointError(
        Diagnostic(
            "E205",
            "the weights do not fit the network: " + "; ".join(parts),
            hint="the checkpoint belongs to another brain; load it with the spec it was saved with",
            file=file,
            path=key,
        )
    )

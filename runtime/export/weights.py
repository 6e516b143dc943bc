"""safetensors exports: the weights, with the resolved brain spec, its hash and the
digest of the weights in the file's ``__metadata__``, so that ``HamletModel.load``
rebuilds the network from the file alone and knows that its weights are the ones
exported. Reading is here too, beside the writing, so the two cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.files import write_atomically
from hamlet.schemas.errors import CheckpointError, Diagnostic

from .exportable import Exportable, describe, with_suffix


@dataclass
class SafetensorsContents:
    """What a safetensors export holds, as read: nothing here is checked yet beyond
    being well-formed safetensors and JSON (the model room checks the rest)."""

    brain_spec: Any
    """The parsed ``hamlet.brain_spec`` (a dict when the file is sound)."""
    spec_hash: str | None
    weights_digest: str | None
    """None in files exported before HAMLET stored a digest."""
    weights: dict[str, Tensor]
    metadata: Any = field(default_factory=dict)
    """The parsed ``hamlet.metadata`` (a dict when the file is sound)."""


def export_safetensors(model: Exportable, path: Path) -> Path:
    """The weights, with the resolved spec, its hash and the weights' digest in
    ``__metadata__``; loads back with ``HamletModel.load``."""
    from safetensors.torch import save

    weights = {k: v.detach().contiguous().cpu() for k, v in model.module.state_dict().items()}
    metadata = {**describe(model), "hamlet.metadata": json.dumps(_jsonable(model.metadata))}
    path = with_suffix(path, "safetensors")
    write_atomically(path, lambda handle: handle.write(save(weights, metadata=metadata)))
    return path


def read_safetensors(path: Path, device: str | torch.device, file: str) -> SafetensorsContents:
    """What a safetensors export holds; ``file`` is how errors name it. A file that is
    not safetensors, or whose HAMLET metadata is not JSON, is a CheckpointError."""
    from safetensors import SafetensorError, safe_open

    if not path.is_file():
        raise CheckpointError(Diagnostic("E200", f"no such file: {file}", file=file))
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as handle:
            header = handle.metadata() or {}
            weights = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "unreadable"
        raise CheckpointError(
            Diagnostic(
                "E201",
                f"{file} is not a readable safetensors file ({reason})",
                hint="the file may be incomplete (an interrupted copy?); export it again",
                file=file,
            )
        ) from None
    if "hamlet.brain_spec" not in header:
        raise CheckpointError(
            Diagnostic(
                "E204",
                f"{file} has no hamlet.brain_spec in its metadata",
                hint="HAMLET's safetensors exports carry it; bare weights cannot be rebuilt",
                file=file,
                path="__metadata__.hamlet.brain_spec",
            )
        )
    spec = _parsed(header, "hamlet.brain_spec", file)
    metadata = _parsed(header, "hamlet.metadata", file) if "hamlet.metadata" in header else {}
    return SafetensorsContents(
        brain_spec=spec,
        spec_hash=header.get("hamlet.spec_hash"),
        weights_digest=header.get("hamlet.weights_digest"),
        weights=weights,
        metadata=metadata,
    )


def _parsed(header: dict[str, str], key: str, file: str) -> Any:
    try:
        return json.loads(header[key])
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise CheckpointError(
            Diagnostic(
                "E201",
                f"{file}: its metadata entry {key} is damaged ({reason})",
                hint="the file was edited or damaged; export it again",
                file=file,
                path=f"__metadata__.{key}",
            )
        ) from None


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))

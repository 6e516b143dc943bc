"""safetensors exports: the weights, with the resolved brain spec and its hash in the
file's ``__metadata__``, so that ``HamletModel.load`` rebuilds the network from the
file alone. Reading is here too, beside the writing, so the two cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.files import write_atomically
from hamlet.schemas.errors import CheckpointError, Diagnostic

from .exportable import Exportable, describe, with_suffix


def export_safetensors(model: Exportable, path: Path) -> Path:
    """The weights, with the resolved spec and its hash in ``__metadata__``; loads back
    with ``HamletModel.load``."""
    from safetensors.torch import save

    weights = {k: v.detach().contiguous().cpu() for k, v in model.module.state_dict().items()}
    metadata = {**describe(model), "hamlet.metadata": json.dumps(_jsonable(model.metadata))}
    path = with_suffix(path, "safetensors")
    write_atomically(path, lambda handle: handle.write(save(weights, metadata=metadata)))
    return path


def read_safetensors(
    path: Path, device: str | torch.device, file: str
) -> tuple[dict[str, Any], Any, dict[str, Tensor], dict[str, Any]]:
    """The brain spec, its stored hash, the weights and the metadata of a safetensors
    export; ``file`` is how errors name it."""
    from safetensors import SafetensorError, safe_open

    if not path.is_file():
        raise CheckpointError(Diagnostic("E200", f"no such file: {file}", file=file))
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as handle:
            header = handle.metadata() or {}
            weights = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            Diagnostic("E201", f"{file} is not a readable safetensors file ({exc})", file=file)
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
    try:
        spec = json.loads(header["hamlet.brain_spec"])
        metadata = json.loads(header.get("hamlet.metadata", "{}"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            Diagnostic("E201", f"{file}: damaged metadata ({exc})", file=file)
        ) from None
    return spec, header.get("hamlet.spec_hash"), weights, metadata


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))

"""The digest of a network's weights, so that a changed weight or a flipped byte is seen.

``sha256:<hex>`` of every tensor, in the order of their sorted names: for each, one
line of JSON ``["<name>", "<dtype>", [<shape>]]`` and a newline, then its bytes,
C-contiguous, as they are in memory (little-endian on every machine PyTorch runs on).
The name, dtype and shape are hashed with the bytes, so renaming, retyping or
reshaping a tensor changes the digest as surely as changing a value does.

Checkpoints store it beside their weights (``weights_digest``), every export in its
metadata (``hamlet.weights_digest``); loading a checkpoint or a safetensors export
recomputes it and compares.

>>> weights_digest({"bias": torch.zeros(2)})[:15]
'sha256:6fc946aa'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import torch
from torch import Tensor

PREFIX = "sha256:"


def weights_digest(weights: Mapping[str, Tensor]) -> str:
    """``sha256:<hex>`` of the names, dtypes, shapes and bytes of ``weights``."""
    hasher = hashlib.sha256()
    for name in sorted(weights):
        tensor = weights[name].detach()
        dtype = str(tensor.dtype).removeprefix("torch.")
        hasher.update(json.dumps([name, dtype, list(tensor.shape)]).encode() + b"\n")
        flat = tensor.cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
        hasher.update(flat.view(torch.uint8).numpy())
    return PREFIX + hasher.hexdigest()

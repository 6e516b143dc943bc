"""A checkpoint's weights, checked before a network takes them.

In this order, each a :class:`~hamlet.schemas.CheckpointError` naming the tensor:

1. every entry is a dense tensor of a numeric dtype, named by a string (E204, E205);
2. they match the digest stored with them, when one is (E208; old files have none);
3. their names and shapes are exactly the network's (E205);
4. their dtypes are the network's: float64, float16 and bfloat16 are converted to the
   network's float32 with a warning, as ``load_state_dict`` would convert them silently;
   integers, booleans and complex numbers are refused (E205);
5. every value is finite (E209).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.export import weights_digest
from hamlet.schemas.errors import CheckpointError, Diagnostic

from .entries import check_tensor, clip, entry_error, join, kind, shown
from .notices import ALLOW_HINT, WeightsConvertedWarning, mismatch

StateDict = dict[str, Tensor]

STORED_DTYPES = {
    torch.float16, torch.bfloat16, torch.float32, torch.float64,
    torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.bool,
    torch.complex64, torch.complex128,
}  # fmt: skip
"""The dtypes a weights file may hold at all (the others are refused before hashing)."""
CONVERTIBLE = {torch.float16, torch.bfloat16, torch.float64}
"""Stored dtypes a float32 network takes, converted: every float16 and bfloat16 value is
a float32 value; float64 values round to the nearest one (or overflow to infinity,
which the finite check then refuses)."""


def tensor_map(value: Any, file: str, key: str) -> StateDict:
    """``value`` as weights: a dict of names to dense tensors of a numeric dtype."""
    if not isinstance(value, Mapping):
        raise entry_error(
            file, key, f"the checkpoint's '{key}' is {kind(value)}; it must be a dict"
        )
    weights = {}
    for name, tensor in value.items():
        where = join(key, name)
        if not isinstance(name, str):
            label = f"'{key}'" if key else "the weights"
            raise entry_error(file, key, f"{label} have a key that is {kind(name)}, not a name")
        if not isinstance(tensor, Tensor):
            raise entry_error(file, where, f"'{where}' is {shown(tensor)}; weights are tensors")
        check_tensor(tensor, file, where)
        if tensor.dtype not in STORED_DTYPES:
            raise _refused(
                file, where, f"'{where}' is {dtype_name(tensor.dtype)}, not a dtype of weights"
            )
        weights[name] = tensor
    return weights


def check_digest(
    weights: Mapping[str, Tensor], stored: Any, file: str, path: str, allow_mismatch: bool
) -> None:
    """E208 unless ``weights`` hash to ``stored`` (None: a file from before digests)."""
    if stored is None:
        return
    if not isinstance(stored, str):
        raise entry_error(file, path, f"the checkpoint's '{path}' is {kind(stored)}, not a digest")
    if weights_digest(weights) == stored:
        return
    diagnostic = Diagnostic(
        "E208",
        "the weights do not match the digest stored with them: they were changed after "
        "saving, or the file is damaged",
        hint=f"use an undamaged copy; {ALLOW_HINT}",
        file=file,
        path=path,
    )
    mismatch(diagnostic, allow_mismatch)


def check_tensors(
    expected: Mapping[str, Tensor], given: Mapping[str, Tensor], file: str, key: str
) -> None:
    """Raise E205 listing missing, unexpected and mis-shaped tensors (each sorted)."""
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    misshaped = sorted(
        f"{k} {list(given[k].shape)} (network: {list(expected[k].shape)})"
        for k in set(expected) & set(given)
        if given[k].shape != expected[k].shape
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
            listed = ", ".join(clip(n, 100) for n in names[:8])
            more = f", ... ({len(names)} in all)" if len(names) > 8 else ""
            parts.append(f"{label}: {listed}{more}")
    raise CheckpointError(
        Diagnostic(
            "E205",
            "the weights do not fit the network: " + "; ".join(parts),
            hint="the checkpoint belongs to another brain; load it with the spec it was saved with",
            file=file,
            path=key,
        )
    )


def fit_dtypes(
    expected: Mapping[str, Tensor], weights: Mapping[str, Tensor], file: str, key: str
) -> StateDict:
    """``weights`` in the network's dtypes: converted where no harm can come of it (with a
    warning), refused (E205) where values would change meaning."""
    fitted, converted = {}, []
    for name in sorted(weights):
        tensor, want = weights[name], expected[name].dtype
        if tensor.dtype == want:
            fitted[name] = tensor
        elif want == torch.float32 and tensor.dtype in CONVERTIBLE:
            fitted[name] = tensor.to(want)
            converted.append(f"{name} ({dtype_name(tensor.dtype)})")
        else:
            where = join(key, name)
            raise _refused(
                file,
                where,
                f"'{where}' is {dtype_name(tensor.dtype)}; the network needs {dtype_name(want)}",
                hint="weights must be floating point; save the network's own state_dict",
            )
    if converted:
        listed = ", ".join(converted[:4]) + (
            f", ... ({len(converted)} in all)" if len(converted) > 4 else ""
        )
        diagnostic = Diagnostic(
            "E205",
            f"converted to float32, the network's dtype: {listed}",
            hint="loaded; save the model again (model.save) to store float32 weights",
            file=file,
            path=key,
            severity="warning",
        )
        warnings.warn(WeightsConvertedWarning(diagnostic), stacklevel=5)
    return fitted


def check_finite(weights: Mapping[str, Tensor], file: str, key: str) -> None:
    """E209 if any value of any floating tensor is NaN or infinite."""
    for name in sorted(weights):
        tensor = weights[name]
        if not tensor.is_floating_point() or bool(torch.isfinite(tensor).all()):
            continue
        nan = int(torch.isnan(tensor).sum())
        inf = int(torch.isinf(tensor).sum())
        counts = [f"{n} {label}" for n, label in ((nan, "NaN"), (inf, "infinite")) if n]
        where = join(key, name)
        raise CheckpointError(
            Diagnostic(
                "E209",
                f"'{where}' holds {' and '.join(counts)} values (of {tensor.numel()}); "
                "weights must be finite numbers",
                hint="training diverged before this checkpoint was saved, or the file is "
                "damaged; use an earlier checkpoint of the run",
                file=file,
                path=where,
            )
        )


def checked_weights(
    expected: Mapping[str, Tensor],
    value: Any,
    file: str,
    key: str,
    *,
    digest: Any = None,
    digest_path: str = "weights_digest",
    allow_mismatch: bool = False,
) -> StateDict:
    """``value`` checked in the order of this module's docstring, in the dtypes of
    ``expected`` (a network's state_dict, on any device: only names, shapes and dtypes
    are read)."""
    weights = tensor_map(value, file, key)
    check_digest(weights, digest, file, digest_path, allow_mismatch)
    check_tensors(expected, weights, file, key)
    weights = fit_dtypes(expected, weights, file, key)
    check_finite(weights, file, key)
    return weights


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _refused(file: str, path: str, message: str, hint: str | None = None) -> CheckpointError:
    return CheckpointError(
        Diagnostic(
            "E205",
            message,
            hint=hint or "weights must be dense floating-point tensors",
            file=file,
            path=path,
        )
    )

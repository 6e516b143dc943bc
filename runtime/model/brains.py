"""The brain a checkpoint's weights belong to: its stored spec, compiled and checked
against the stored hash, or a spec recovered from bare weights (:mod:`.legacy`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from hamlet.compiler import CompiledBrain, SpecError, brain_from_data, compile_brain
from hamlet.schemas.errors import CheckpointError, Diagnostic

from .entries import check_plain, clip, entry_error, kind
from .notices import ALLOW_HINT, mismatch


def compile_stored(
    spec: Any,
    stored_hash: Any,
    file: str,
    allow_mismatch: bool,
    paths: tuple[str, str] = ("brain_spec", "brain_spec_hash"),
) -> CompiledBrain:
    """The stored spec, compiled (E204 when it is not a valid brain) and matching its
    stored hash (E206, or a warning with ``allow_mismatch``); ``paths`` are where the
    file keeps the two."""
    spec_path, hash_path = paths
    if not isinstance(spec, Mapping):
        raise entry_error(
            file, spec_path, f"the checkpoint's '{spec_path}' is {kind(spec)}; it must be a dict"
        )
    check_plain(spec, file, spec_path, json_only=True)
    if not isinstance(stored_hash, str):
        found = "missing" if stored_hash is None else kind(stored_hash)
        raise entry_error(
            file, hash_path, f"the checkpoint's '{hash_path}' is {found}; its format needs a str"
        )
    try:
        brain = compile_brain(brain_from_data(dict(spec), file=f"{file} ({spec_path})"))
    except SpecError as error:
        raise CheckpointError(
            Diagnostic(
                "E204",
                f"the checkpoint's {spec_path} is not a valid brain: {error.errors[0].message}",
                hint="the file is damaged, or was written by a newer HAMLET",
                file=file,
                path=spec_path,
            )
        ) from None
    if stored_hash != brain.spec_hash:
        diagnostic = Diagnostic(
            "E206",
            f"the stored {hash_path} {clip(stored_hash)} does not match "
            f"the spec it stores ({brain.spec_hash})",
            hint=f"the spec was changed after saving, or the file is damaged; {ALLOW_HINT}",
            file=file,
            path=hash_path,
        )
        mismatch(diagnostic, allow_mismatch)
    return brain


def compile_recovered(spec: dict[str, Any], file: str) -> CompiledBrain:
    """A spec recovered from bare weights, compiled (E207 when it cannot be built)."""
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


def network_on_meta(brain: CompiledBrain) -> torch.nn.Module:
    """The brain's network without memory behind it: its state_dict gives the names,
    shapes and dtypes of the weights it takes, and ``load_state_dict(assign=True)``
    gives it the file's tensors without paying for an initialisation first."""
    with torch.device("meta"):
        return brain.module_class()

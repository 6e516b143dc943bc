"""Warnings a load can give: the file was loaded although something in it was not as
saved (asked for with ``allow_hash_mismatch``), or its weights were converted.

Each carries its :class:`~hamlet.schemas.Diagnostic` (severity ``warning``), which the
``hamlet`` command prints like an error.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

from hamlet.schemas.errors import CheckpointError, Diagnostic


class HashMismatchWarning(UserWarning):
    """A checkpoint was loaded although its spec does not match its stored hash (E206)
    or its weights do not match their stored digest (E208)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class WeightsConvertedWarning(UserWarning):
    """Weights stored as float64, float16 or bfloat16 were converted to the network's
    float32 (E205, as a warning)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def mismatch(diagnostic: Diagnostic, allowed: bool) -> None:
    """Raise ``diagnostic``, or only warn of it when the caller allowed mismatches."""
    if not allowed:
        raise CheckpointError(diagnostic)
    loaded_anyway = replace(
        diagnostic, severity="warning", hint="loaded anyway, as allow_hash_mismatch asked"
    )
    warnings.warn(HashMismatchWarning(loaded_anyway), stacklevel=5)


ALLOW_HINT = "to load it anyway pass allow_hash_mismatch=True (CLI: --allow-hash-mismatch)"

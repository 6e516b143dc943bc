"""The whole pipeline in one call: load -> validate -> graph -> resolve -> emit -> module.

>>> import torch
>>> from hamlet.schemas import ObservationLayout
>>> layout = ObservationLayout.from_shapes({"grid": (3, 3), "meters": (8,)}, 6)
>>> brain = compile_brain("simple_q", layout=layout)
>>> brain.instantiate()(torch.zeros(2, 17)).shape
torch.Size([2, 6])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hamlet.schemas.errors import Diagnostic, SpecError
from hamlet.schemas.layout import ObservationLayout
from hamlet.schemas.override import Override

from .emit import class_name, generate_source, load_class
from .load import BrainSource, brain_from_data, load_brain
from .memory import DEFAULT_MAX_MEMORY
from .resolve import ResolvedBrain, resolve_brain

if TYPE_CHECKING:
    import torch


@dataclass
class CompiledBrain:
    """A resolved brain and its generated source; ``instantiate()`` builds the module."""

    resolved: ResolvedBrain
    source: str
    class_name: str
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def spec_hash(self) -> str:
        return self.resolved.spec_hash

    @property
    def layout(self) -> ObservationLayout:
        return self.resolved.layout

    def to_dict(self) -> dict[str, Any]:
        """The resolved spec (JSON-ready)."""
        return self.resolved.to_dict()

    @cached_property
    def module_class(self) -> type[torch.nn.Module]:
        return load_class(self.source, self.class_name, self.spec_hash)

    def instantiate(self) -> torch.nn.Module:
        """A fresh module with newly initialised weights (seed torch for repeatability)."""
        return self.module_class()


def compile_brain(
    brain: str | Path | BrainSource,
    *,
    layout: ObservationLayout | None = None,
    max_memory: int = DEFAULT_MAX_MEMORY,
    overrides: Sequence[Override] = (),
) -> CompiledBrain:
    """Compile a brain file, built-in name or loaded source against ``layout``.

    A brain whose training would need more than ``max_memory`` bytes (estimated from its
    sizes, replay memory included; default 8 GiB) is refused with E134 before anything
    is allocated. ``overrides`` (settings from the command line) apply as in
    :func:`~.load.load_brain`; a loaded source has had its own already.
    """
    if isinstance(brain, BrainSource):
        if any(o.file == "brain" for o in overrides):
            raise ValueError("apply overrides when loading: load_brain(path, overrides=...)")
        source = brain
    else:
        source = load_brain(brain, overrides=overrides)
    resolved = resolve_brain(source, layout, max_memory=max_memory)
    return CompiledBrain(
        resolved,
        generate_source(resolved),
        class_name(resolved.spec.name),
        list(resolved.warnings),
    )


def compile_resolved(
    data: dict[str, Any],
    *,
    expected_hash: str | None = None,
    max_memory: int = DEFAULT_MAX_MEMORY,
) -> CompiledBrain:
    """Rebuild a brain from its resolved spec (as stored in checkpoints).

    With ``expected_hash``, a spec whose hash differs raises :class:`SpecError`;
    ``max_memory`` is as for :func:`compile_brain`.
    """
    source = brain_from_data(data, file="<resolved spec>")
    compiled = compile_brain(source, max_memory=max_memory)
    if expected_hash is not None and compiled.spec_hash != expected_hash:
        raise SpecError(
            Diagnostic(
                "E130",
                f"the resolved spec hashes to {compiled.spec_hash}, not {expected_hash}",
                hint="the spec was edited or corrupted; recompile it from its brain.yaml",
                file="<resolved spec>",
            )
        )
    return compiled

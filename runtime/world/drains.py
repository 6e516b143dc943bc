"""The passive part of a step: base depletion, then the modulations and cascades.

townlet-facts §1.3 steps 2-4: every meter loses ``base_depletion x multiplier``
(clamped); then each modulation and each cascade, in order (modulations first,
cascades by ``category_order`` then list order), drains its target by an amount
that depends on its source, clamping after each one so that each sees the values
the previous one left.

Applying them one by one costs about five tensor operations each. They are applied
in *waves* instead: a run of consecutive drains none of whose sources is the target
of an earlier drain of the same run. Within a wave every source still has the value
it had when the wave started, so reading all sources at once gives the sequential
result; and since every drain is non-negative (the schemas make strengths, base
multipliers, ranges and baseline depletions >= 0, and a source lies in [0, 1]),
subtracting a sum and clamping once equals subtracting and clamping one by one
(``max(max(x - a, 0) - b, 0) == max(x - a - b, 0)``). The shipped cascades form a
single wave: eleven drains in five tensor operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from hamlet.schemas import Pack


@dataclass(frozen=True)
class Drain:
    """``target -= max(0, intercept - slope * source)``: one modulation or cascade."""

    name: str
    source: int
    target: int
    intercept: float
    slope: float


def pack_drains(pack: Pack) -> tuple[Drain, ...]:
    """The pack's modulations and cascades, in application order, as linear drains.

    A modulation drains ``baseline * (base + range * (1 - source))``, which is
    ``baseline * (base + range) - baseline * range * source``. A cascade drains
    ``strength * (threshold - source) / threshold`` below its threshold and nothing
    above, which is ``max(0, strength - strength / threshold * source)``.
    """
    column = pack.meter_names.index
    drains = [
        Drain(
            m.name,
            column(m.source),
            column(m.target),
            intercept=m.baseline_depletion * (m.base_multiplier + m.range),
            slope=m.baseline_depletion * m.range,
        )
        for m in pack.cascades.modulations
    ]
    drains += [
        Drain(
            c.name,
            column(c.source),
            column(c.target),
            intercept=c.strength,
            slope=c.strength / c.threshold,
        )
        for c in pack.cascades.in_application_order()
    ]
    return tuple(drains)


def waves(drains: tuple[Drain, ...]) -> list[list[Drain]]:
    """Split ``drains`` (in order) into runs that can be applied at once (module docstring)."""
    runs: list[list[Drain]] = []
    targets: set[int] = set()
    for drain in drains:
        if not runs or drain.source in targets:
            runs.append([])
            targets = set()
        runs[-1].append(drain)
        targets.add(drain.target)
    return runs


@dataclass(frozen=True)
class DrainWave:
    """One wave as tensors: ``meters[targets] -= max(0, intercept - slope * sources)``."""

    sources: Tensor
    """``[C]`` long: source meter of each drain."""
    intercept: Tensor
    """``[C, 1]`` float."""
    negative_slope: Tensor
    """``[C, 1]`` float: ``-slope``, so the drains are one ``addcmul``."""
    targets: Tensor
    """``[C]`` long: target meter of each drain (drains of the same target add up)."""


class PassiveDrains:
    """Base depletion, modulations and cascades of a pack, for meters ``[M, N]``.

    The world subtracts :attr:`base_depletion` x multiplier itself (together with the
    action's charges); :meth:`cascade` applies the rest.
    """

    def __init__(self, pack: Pack, device: torch.device) -> None:
        meters = pack.meter_names
        by_name = {m.name: m for m in pack.bars.meters}
        self.base_depletion = torch.tensor(
            [[by_name[name].base_depletion] for name in meters], dtype=torch.float32, device=device
        )
        """``[M, 1]``: drain per step at depletion multiplier 1."""
        self.drains = pack_drains(pack)
        """Modulations then cascades, in application order."""
        self.waves = tuple(self._wave(run, device) for run in waves(self.drains))
        """The drains grouped into waves (see the module docstring)."""

    @staticmethod
    def _wave(run: list[Drain], device: torch.device) -> DrainWave:
        def column(values: list[float]) -> Tensor:
            return torch.tensor([[v] for v in values], dtype=torch.float32, device=device)

        return DrainWave(
            sources=torch.tensor([d.source for d in run], dtype=torch.long, device=device),
            intercept=column([d.intercept for d in run]),
            negative_slope=column([-d.slope for d in run]),
            targets=torch.tensor([d.target for d in run], dtype=torch.long, device=device),
        )

    def cascade_(self, meters: Tensor) -> Tensor:
        """Apply the modulations and cascades to ``meters [M, N]`` in place; return it."""
        for wave in self.waves:
            sources = meters.index_select(0, wave.sources)
            drained = torch.addcmul(wave.intercept, sources, wave.negative_slope).clamp_(min=0.0)
            meters.index_add_(0, wave.targets, drained, alpha=-1).clamp_(0.0, 1.0)
        return meters

"""Config packs, typed: :class:`Pack` and the models of its files.

A config pack is a directory holding ``bars.yaml`` (meters), ``affordances.yaml``
(places), ``cascades.yaml`` (how meters drag each other down) and
``training.yaml`` (the environment, curriculum, exploration and run settings), plus
the ``brain.yaml`` the compiler reads. The files' models are defined in
``pack_world`` and ``pack_training`` and re-exported here; :mod:`.pack_loading` reads
a directory into a :class:`Pack`.

The JSON Schemas are the contract editors see; these models give the code typed
access. Their defaults are the same (a test keeps them in sync).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from .pack_training import (
    ActionCosts,
    Curriculum,
    Demonstrations,
    Environment,
    Epsilon,
    Evaluation,
    Exploration,
    Intrinsic,
    OnAdvance,
    Recording,
    Repeat,
    Rnd,
    Run,
    Stage,
    Training,
)
from .pack_world import (
    Affordance,
    Affordances,
    Bars,
    Cascade,
    Cascades,
    ConfigModel,
    Instant,
    Meter,
    MeterAmounts,
    Modulation,
    MultiTick,
    Terminal,
)

__all__ = [
    "PACK_FILES",
    "ActionCosts",
    "Affordance",
    "Affordances",
    "Bars",
    "Cascade",
    "Cascades",
    "ConfigModel",
    "Curriculum",
    "Demonstrations",
    "Environment",
    "Epsilon",
    "Evaluation",
    "Exploration",
    "Instant",
    "Intrinsic",
    "Meter",
    "MeterAmounts",
    "Modulation",
    "MultiTick",
    "OnAdvance",
    "Pack",
    "Recording",
    "Repeat",
    "Rnd",
    "Run",
    "Stage",
    "Terminal",
    "Training",
]


class Pack(ConfigModel):
    """A loaded, cross-checked config pack."""

    name: str
    """Name of the pack: its directory's name, e.g. ``L1_full_observability``."""
    directory: Path
    """Directory the pack was loaded from."""
    bars: Bars
    """Meters and death conditions (bars.yaml)."""
    affordances: Affordances
    """The town's places (affordances.yaml)."""
    cascades: Cascades
    """Meter interactions (cascades.yaml)."""
    training: Training
    """Environment, curriculum, exploration and run settings (training.yaml)."""

    @property
    def meter_names(self) -> tuple[str, ...]:
        """Meter names in tensor order."""
        return self.bars.names

    @property
    def affordance_names(self) -> tuple[str, ...]:
        """The affordance vocabulary, in one-hot index order (deployed or not)."""
        return tuple(a.name for a in self.affordances.affordances)

    @property
    def deployed_affordances(self) -> tuple[Affordance, ...]:
        """The affordances placed on the grid, in vocabulary order."""
        enabled = self.training.environment.enabled_affordances
        return tuple(
            a for a in self.affordances.affordances if enabled == "all" or a.name in enabled
        )


PACK_FILES: dict[str, type[BaseModel]] = {
    "bars": Bars,
    "affordances": Affordances,
    "cascades": Cascades,
    "training": Training,
}
"""The world and run files of a pack (``<kind>.yaml``) and their models."""

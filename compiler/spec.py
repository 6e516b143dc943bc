"""The typed brain spec (pydantic), mirroring ``schemas/brain.schema.json``.

The JSON Schema is the contract editors and error messages use; these models give
the compiler typed access. A test keeps their keys and defaults in sync. Nothing
here imports torch.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .kinds import AnyNode


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class FieldSpec(_Spec):
    """One observation field."""

    name: str
    shape: list[int] = Field(min_length=1, max_length=3)


class ObservationSpec(_Spec):
    """The observation a brain expects when compiled outside a config pack."""

    fields: list[FieldSpec] | None = None
    """Named fields in vector order; none means "from the world"."""
    actions: int | list[str] | Literal["auto"] = "auto"
    """Action count, action names, or ``auto`` (from the world)."""


class TargetUpdateSpec(_Spec):
    every: int = Field(default=100, ge=1)
    """Gradient steps between target-network updates."""
    tau: float = Field(default=1.0, gt=0, le=1)
    """Polyak factor; 1.0 is a hard copy."""


class PrioritizedSpec(_Spec):
    alpha: float = Field(default=0.6, ge=0, le=1)
    """How strongly priorities shape sampling (0 is uniform)."""
    beta: float = Field(default=0.4, ge=0, le=1)
    """Initial importance-sampling correction, annealed to 1."""
    epsilon: float = Field(default=1e-6, gt=0)
    """Added to every priority so that no transition starves."""


class ReplaySpec(_Spec):
    capacity: int = Field(default=10_000, ge=1)
    """Transitions kept in memory."""
    prioritized: PrioritizedSpec | Literal[False] = False
    """Prioritized replay settings, or off."""

    @field_validator("prioritized", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        return {} if value is True else value  # `true`: on, with the defaults


class SequenceSpec(_Spec):
    length: int = Field(default=8, ge=1)
    """Time steps per training sequence (recurrent brains)."""
    burn_in: int = Field(default=4, ge=0)
    """Steps replayed first only to warm up the hidden state."""


class LearningSpec(_Spec):
    """How the brain learns; see the schema's descriptions for each key."""

    optimizer: Literal["adam", "adamw"] = "adam"
    learning_rate: float = Field(default=1e-3, gt=0, le=1)
    weight_decay: float = Field(default=0.0, ge=0)
    gamma: float = Field(default=0.99, ge=0, le=1)
    batch_size: int = Field(default=64, ge=1)
    train_frequency: int = Field(default=4, ge=1)
    learning_starts: int = Field(default=64, ge=1)
    loss: Literal["mse", "huber"] = "mse"
    double_dqn: bool = False
    n_step: int = Field(default=1, ge=1, le=64)
    max_grad_norm: float | None = Field(default=10.0, gt=0)
    target_update: TargetUpdateSpec = Field(default_factory=TargetUpdateSpec)
    replay: ReplaySpec = Field(default_factory=ReplaySpec)
    sequence: SequenceSpec = Field(default_factory=SequenceSpec)


class BrainSpec(_Spec):
    """A whole brain: its network and how it learns."""

    version: Literal[1] = 1
    name: str
    description: str = ""
    extends: str | None = None
    observation: ObservationSpec = Field(default_factory=ObservationSpec)
    network: dict[str, AnyNode]
    learning: LearningSpec = Field(default_factory=LearningSpec)

"""Typed models of a config pack's world files: bars.yaml, cascades.yaml, affordances.yaml.

They mirror ``bars.schema.json``, ``cascades.schema.json`` and
``affordances.schema.json`` (same keys, same defaults; a test keeps them in sync).
The schemas validate values; these models give the code typed access to them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MeterAmounts = dict[str, float]
"""``meter name -> amount``: costs (subtracted, >= 0) or effects (added, may be negative)."""


class ConfigModel(BaseModel):
    """Base of every config-pack model: unknown keys are errors, instances are immutable,
    numbers are finite."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False
    )


# --- bars.yaml ---------------------------------------------------------------------


class Meter(ConfigModel):
    """One meter: a value in [0, 1] that drains every step."""

    name: str
    """Name of the meter, e.g. ``energy``."""
    index: int
    """Column of the meter in the meter tensor; equal to its position in the list."""
    tier: Literal["pivotal", "primary", "secondary", "resource"]
    """Role of the meter; informative only (the cascades encode what it does)."""
    initial: float = 1.0
    """Value at the start of an episode, in [0, 1]."""
    base_depletion: float = 0.0
    """Drain per step before the curriculum's depletion multiplier."""
    description: str = ""
    """One line saying what the meter stands for."""


class Terminal(ConfigModel):
    """A death condition ``meter op value``."""

    meter: str
    """Name of the meter compared."""
    op: Literal["<=", "<", ">=", ">", "=="] = "<="
    """Comparison between the meter and ``value``."""
    value: float = 0.0
    """Threshold the meter is compared with."""


class Bars(ConfigModel):
    """The contents of ``bars.yaml``: the meters and the death conditions."""

    version: Literal[1]
    """Format version of the file."""
    meters: tuple[Meter, ...]
    """The meters in tensor order."""
    terminal: tuple[Terminal, ...]
    """Conditions of which any one ends the episode in death."""

    @property
    def names(self) -> tuple[str, ...]:
        """Meter names in tensor order."""
        return tuple(m.name for m in sorted(self.meters, key=lambda m: m.index))


# --- cascades.yaml -----------------------------------------------------------------


class Modulation(ConfigModel):
    """``target -= baseline_depletion * (base_multiplier + range * (1 - source))`` per step."""

    name: str
    """Name of the modulation, for logs and error messages."""
    kind: Literal["depletion_multiplier"] = "depletion_multiplier"
    """Kind of modulation; there is one."""
    source: str
    """Meter whose shortfall ``1 - value`` scales the drain."""
    target: str
    """Meter that is drained."""
    base_multiplier: float
    """Multiplier of the drain when the source is full."""
    range: float
    """Extra multiplier added as the source falls from 1 to 0."""
    baseline_depletion: float
    """Drain per step at multiplier 1."""


class Cascade(ConfigModel):
    """When ``source < threshold``: ``target -= strength * (threshold - source) / threshold``."""

    name: str
    """Name of the cascade, e.g. ``satiation_to_health``."""
    category: str
    """One of the categories of ``category_order``; decides when it is applied."""
    source: str
    """Meter whose low value triggers the cascade."""
    target: str
    """Meter that is drained."""
    threshold: float
    """Source value below which the cascade drains, in (0, 1]."""
    strength: float
    """Drain per step when the source is at 0."""


class Cascades(ConfigModel):
    """The contents of ``cascades.yaml``."""

    version: Literal[1]
    """Format version of the file."""
    math_type: Literal["gradient_penalty"] = "gradient_penalty"
    """How a deficit becomes a drain (see :class:`Cascade`)."""
    modulations: tuple[Modulation, ...] = ()
    """Drains scaled by a source meter, applied before the cascades."""
    category_order: tuple[str, ...]
    """Categories in the order they are applied each step."""
    cascades: tuple[Cascade, ...]
    """The cascades as written; see :meth:`in_application_order`."""

    def in_application_order(self) -> tuple[Cascade, ...]:
        """Cascades by category (in ``category_order``), then in list order."""
        rank = {name: i for i, name in enumerate(self.category_order)}
        return tuple(sorted(self.cascades, key=lambda c: rank[c.category]))


# --- affordances.yaml --------------------------------------------------------------


class Instant(ConfigModel):
    """What one INTERACT does with temporal mechanics off: effects first, then costs."""

    costs: MeterAmounts = Field(default_factory=dict)
    """Amounts paid per use; less money than the money cost means no use."""
    effects: MeterAmounts = Field(default_factory=dict)
    """Changes per use (negative for side effects)."""


class MultiTick(ConfigModel):
    """What INTERACT does with temporal mechanics on: one part per tick, a bonus at the end."""

    required_ticks: int
    """Consecutive INTERACT steps that complete one use."""
    costs_per_tick: MeterAmounts = Field(default_factory=dict)
    """Amounts paid on every tick; less money than the money cost means no tick."""
    effects_per_tick: MeterAmounts = Field(default_factory=dict)
    """Changes on every tick."""
    completion_bonus: MeterAmounts = Field(default_factory=dict)
    """Changes added on the last tick."""


class Affordance(ConfigModel):
    """A place of the town that the agent uses with INTERACT."""

    name: str
    """Name of the affordance, e.g. ``Bed``."""
    hours: tuple[int, int] = (0, 24)
    """Opening hours ``[open, close)``; ``close > 24`` wraps past midnight."""
    instant: Instant | None = None
    """Behaviour with temporal mechanics off (``None``: cannot be used then)."""
    multi_tick: MultiTick | None = None
    """Behaviour with temporal mechanics on (``None``: cannot be used then)."""

    def is_open(self, hour: int) -> bool:
        """Whether the affordance is open at ``hour`` (0..23) of the day.

        >>> Affordance(name="Bar", hours=(18, 28)).is_open(2)
        True
        """
        open_, close = self.hours
        if close <= 24:
            return open_ <= hour < close
        return hour >= open_ or hour < close - 24


class Affordances(ConfigModel):
    """The contents of ``affordances.yaml``; list order is the observation one-hot index."""

    version: Literal[1]
    """Format version of the file."""
    affordances: tuple[Affordance, ...]
    """Every affordance of the town, in vocabulary order."""

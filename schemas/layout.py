"""The observation layout: named fields of the flat observation vector, and the actions.

This is the one source of truth for observation dimensions. The compiler sizes
brains from it and the world simulation builds observations in exactly this
order, so the two can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .pack import Pack

ACTION_NAMES: tuple[str, ...] = ("UP", "DOWN", "LEFT", "RIGHT", "INTERACT", "WAIT")
"""The six actions of the town, in action-index order."""

TEMPORAL_FEATURES: tuple[str, ...] = (
    "time_sin",
    "time_cos",
    "interaction_progress",
    "lifetime_progress",
)
"""The four trailing features present on every level (constant where temporal is off)."""


@dataclass(frozen=True)
class ObservationField:
    """One named slice of the observation vector."""

    name: str
    shape: tuple[int, ...]
    offset: int
    """Index of the field's first element in the flat observation vector."""

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class ObservationLayout:
    """Ordered observation fields plus the action names.

    >>> layout = ObservationLayout.from_shapes({"grid": (3, 3), "meters": (8,)}, 6)
    >>> layout.obs_dim, layout.field("meters").offset
    (17, 9)
    """

    fields: tuple[ObservationField, ...]
    action_names: tuple[str, ...]

    @classmethod
    def from_shapes(
        cls,
        shapes: Mapping[str, Iterable[int]] | Iterable[tuple[str, Iterable[int]]],
        actions: int | Iterable[str],
    ) -> ObservationLayout:
        """Lay out fields in the given order; ``actions`` is a count or the names."""
        items = shapes.items() if isinstance(shapes, Mapping) else shapes
        fields, offset = [], 0
        for name, shape in items:
            field = ObservationField(name, tuple(int(s) for s in shape), offset)
            fields.append(field)
            offset = field.end
        if isinstance(actions, int):
            names = (
                ACTION_NAMES
                if actions == len(ACTION_NAMES)
                else tuple(f"action_{i}" for i in range(actions))
            )
        else:
            names = tuple(actions)
        return cls(tuple(fields), names)

    @cached_property
    def obs_dim(self) -> int:
        return sum(f.size for f in self.fields)

    @property
    def num_actions(self) -> int:
        return len(self.action_names)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> ObservationField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in resolved specs and checkpoints."""
        return {
            "fields": [{"name": f.name, "shape": list(f.shape)} for f in self.fields],
            "actions": list(self.action_names),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObservationLayout:
        return cls.from_shapes([(f["name"], f["shape"]) for f in data["fields"]], data["actions"])


def observation_layout(pack: Pack) -> ObservationLayout:
    """The observation fields and actions of the world a config pack describes.

    Full observability: ``grid`` (G, G), ``meters`` (M,), ``affordance`` (A + 1,),
    ``temporal`` (4,). Partial: ``grid`` is the (W, W) window around the agent with
    W = 2 * vision_range + 1, followed by ``position`` (2,) and the same three fields.
    The affordance one-hot spans the whole vocabulary of affordances.yaml plus a
    "none" slot, so it does not depend on which affordances are enabled.

    >>> from hamlet.configs import pack_dir
    >>> from hamlet.schemas import load_pack
    >>> layout = observation_layout(load_pack(pack_dir("L2_partial_observability")))
    >>> [(f.name, f.shape) for f in layout.fields][:2], layout.obs_dim
    ([('grid', (5, 5)), ('position', (2,))], 54)
    """
    env = pack.training.environment
    tail: list[tuple[str, tuple[int, ...]]] = [
        ("meters", (len(pack.bars.meters),)),
        ("affordance", (len(pack.affordances.affordances) + 1,)),
        ("temporal", (len(TEMPORAL_FEATURES),)),
    ]
    if env.observability == "full":
        head = [("grid", (env.grid_size, env.grid_size))]
    else:
        window = 2 * env.vision_range + 1
        head = [("grid", (window, window)), ("position", (2,))]
    return ObservationLayout.from_shapes([*head, *tail], ACTION_NAMES)

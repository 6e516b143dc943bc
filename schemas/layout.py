"""The observation layout: named fields of the flat observation vector, and the actions.

This is the one source of truth for observation dimensions. The compiler sizes
brains from it and the world simulation builds observations in exactly this
order, so the two can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
            names = ACTION_NAMES if actions == len(ACTION_NAMES) else tuple(
                f"action_{i}" for i in range(actions)
            )
        else:
            names = tuple(actions)
        return cls(tuple(fields), names)

    @property
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

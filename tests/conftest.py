"""Shared fixtures: observation layouts of the reference worlds, without loading packs."""

from __future__ import annotations

import pytest

from hamlet.schemas.layout import ObservationLayout

FULL_L1 = ObservationLayout.from_shapes(
    {"grid": (8, 8), "meters": (8,), "affordance": (15,), "temporal": (4,)}, 6
)
PARTIAL_L2 = ObservationLayout.from_shapes(
    {"grid": (5, 5), "position": (2,), "meters": (8,), "affordance": (15,), "temporal": (4,)}, 6
)


@pytest.fixture
def full_layout() -> ObservationLayout:
    return FULL_L1


@pytest.fixture
def partial_layout() -> ObservationLayout:
    return PARTIAL_L2

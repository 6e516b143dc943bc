"""Shared fixtures: observation layouts of the reference worlds, without loading packs;
and the tolerance of float comparisons between two different computations."""

from __future__ import annotations

from typing import Any

import pytest

from hamlet.schemas.layout import ObservationLayout

FULL_L1 = ObservationLayout.from_shapes(
    {"grid": (8, 8), "meters": (8,), "affordance": (15,), "temporal": (4,)}, 6
)
PARTIAL_L2 = ObservationLayout.from_shapes(
    {"grid": (5, 5), "position": (2,), "meters": (8,), "affordance": (15,), "temporal": (4,)}, 6
)

ACROSS_KERNELS = {"rtol": 1e-5, "atol": 1e-5}
"""Tolerance for float32 results of two different computations of the same function (our
network against the original's, a model against its export). Different code paths, and
the CPU kernels another machine picks (AVX-512, AVX2 or none: ``ATEN_CPU_CAPABILITY``),
round differently, by ~1e-7 per op here; a real mistake differs by orders of magnitude
more. One computation run twice in one process is compared bitwise (``torch.equal``)."""


@pytest.fixture
def full_layout() -> ObservationLayout:
    return FULL_L1


@pytest.fixture
def partial_layout() -> ObservationLayout:
    return PARTIAL_L2


def integer_subschemas(schema: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every integer-typed subschema of a JSON Schema, with its JSON pointer."""
    found = []
    if isinstance(schema, dict):
        if schema.get("type") == "integer":
            found.append((path, schema))
        for key, value in schema.items():
            found += integer_subschemas(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found += integer_subschemas(value, f"{path}/{index}")
    return found

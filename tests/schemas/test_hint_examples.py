"""A missing key's hint ("add `key: value`") suggests a value the schema accepts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hamlet.schemas.validate import _example

SCHEMAS = sorted((Path(__file__).parents[2] / "schemas").glob("*.schema.json"))


def _numbers(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every number or integer schema under ``node``, with where it is."""
    if isinstance(node, dict):
        if node.get("type") in ("number", "integer") and "enum" not in node:
            yield where, node
        for key, value in node.items():
            yield from _numbers(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _numbers(value, f"{where}/{index}")


CASES = [case for path in SCHEMAS for case in _numbers(json.loads(path.read_text()), path.name)]


@pytest.mark.parametrize("where, schema", CASES, ids=[where for where, _ in CASES])
def test_the_suggested_number_is_valid(where, schema):
    jsonschema.validate(json.loads(_example(schema)), schema)


def test_bounds_move_the_suggestion_inside_them():
    assert _example({"type": "number", "exclusiveMinimum": 0, "maximum": 0.5}) == "0.5"
    assert _example({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}) == "0.5"
    assert _example({"type": "integer", "minimum": 5}) == "5"
    assert _example({"type": "number"}) == "1.0"
    assert len(CASES) > 50

"""A missing key's hint ("add `key: value`") suggests a value the schema accepts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from hamlet.schemas.examples import example_value as _example

from .test_pack_schema_sync import walk

SCHEMAS = sorted((Path(__file__).parents[2] / "schemas").glob("*.schema.json"))


CASES = [
    (f"{path.name}{where}", node)
    for path in SCHEMAS
    for where, node in walk(json.loads(path.read_text()))
    if node.get("type") in ("number", "integer") and "enum" not in node
]


@pytest.mark.parametrize("where, schema", CASES, ids=[where for where, _ in CASES])
def test_the_suggested_number_is_valid(where, schema):
    jsonschema.validate(json.loads(_example(schema)), schema)


def test_bounds_move_the_suggestion_inside_them():
    assert _example({"type": "number", "exclusiveMinimum": 0, "maximum": 0.5}) == "0.5"
    assert _example({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}) == "0.5"
    assert _example({"type": "integer", "minimum": 5}) == "5"
    assert _example({"type": "number"}) == "1.0"
    assert len(CASES) > 50

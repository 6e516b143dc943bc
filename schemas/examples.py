"""A value a schema accepts, to suggest in a hint ("add `key: value`")."""

from __future__ import annotations

import json
from typing import Any


def example_value(schema: dict[str, Any], root: dict[str, Any] | None = None) -> str:
    """The schema's example or default, else a value of its type (inside its bounds);
    ``root`` resolves a ``$ref``."""
    if "$ref" in schema and root is not None:
        target = root.get("$defs", {}).get(schema["$ref"].rsplit("/", 1)[-1], {})
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    if "examples" in schema:
        return json.dumps(schema["examples"][0])
    if "default" in schema:
        return json.dumps(schema["default"])
    if "enum" in schema:
        return str(schema["enum"][0])
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    return {"string": "...", "array": "[...]"}.get(str(kind), "...")


def _number(schema: dict[str, Any], *, integer: bool) -> str:
    """1 (or 1.0), unless the bounds rule it out: then the nearest bound, or halfway
    between the bounds where a bound is exclusive."""
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 1
    if high is not None and (value > high or (value == high and "exclusiveMaximum" in schema)):
        value = high if "maximum" in schema else (high + (low if low is not None else 0)) / 2
    if low is not None and (value < low or (value == low and "exclusiveMinimum" in schema)):
        value = low if "minimum" in schema else low + 1
    if integer:
        return str(int(value))
    return json.dumps(float(value))

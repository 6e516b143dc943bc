"""The pack JSON Schemas and the pydantic models describe the same files.

Editors see the schemas, the code sees the models: their keys, required keys and
defaults must agree, and every schema property must document what to write there.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from hamlet.schemas import load_schema
from hamlet.schemas.pack import PACK_FILES


def resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its ``$ref`` followed (sibling keys such as a description win)."""
    while "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``Model``, ``Model | None`` or ``tuple[Model, ...]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (tuple, Union, types.UnionType):
        for arg in get_args(annotation):
            found = nested_model(arg)
            if found is not None:
                return found
    return None


def model_schema_pairs(
    model: type[BaseModel], node: dict[str, Any], root: dict[str, Any]
) -> Iterator[tuple[type[BaseModel], dict[str, Any]]]:
    yield model, node
    for name, field in model.model_fields.items():
        sub = nested_model(field.annotation)
        if sub is None:
            continue
        prop = resolve(root, node["properties"][name])
        yield from model_schema_pairs(sub, resolve(root, prop.get("items", prop)), root)


PAIRS = [
    pytest.param(model, node, root, id=f"{kind}:{model.__name__}")
    for kind, top in PACK_FILES.items()
    for root in [load_schema(kind)]
    for model, node in model_schema_pairs(top, root, root)
]


@pytest.mark.parametrize(("model", "node", "root"), PAIRS)
def test_model_fields_are_the_schema_properties(model, node, root) -> None:
    assert set(model.model_fields) == set(node["properties"])
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required == set(node.get("required", []))


@pytest.mark.parametrize(("model", "node", "root"), PAIRS)
def test_model_defaults_equal_the_schema_defaults(model, node, root) -> None:
    for name, field in model.model_fields.items():
        prop = resolve(root, node["properties"][name])
        if field.is_required():
            assert "default" not in prop, name
            continue
        default = field.get_default(call_default_factory=True)
        if default is None:
            assert "default" not in prop, name
        else:
            assert prop.get("default") == to_jsonable_python(default), name


@pytest.mark.parametrize(("model", "node", "root"), PAIRS)
def test_model_fields_are_documented(model, node, root) -> None:
    undocumented = [name for name, field in model.model_fields.items() if not field.description]
    assert undocumented == []


def walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}/{i}")


@pytest.mark.parametrize("kind", list(PACK_FILES))
def test_schema_is_strict_and_documented(kind: str) -> None:
    schema = load_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{kind}.schema.json") and schema["title"]
    for path, node in walk(schema):
        if node.get("type") == "object":
            # Records forbid unknown keys; `meter: amount` maps constrain them by pattern.
            assert node.get("additionalProperties") is False or "propertyNames" in node, path
        for name, prop in node.get("properties", {}).items():
            if path.endswith("/properties"):
                continue
            assert resolve(schema, prop).get("description"), f"{path}/properties/{name}"

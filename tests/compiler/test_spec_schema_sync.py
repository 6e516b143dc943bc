"""The JSON Schema (what editors and error messages see) and the typed spec agree."""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import pytest
import torch
from pydantic import BaseModel

from hamlet.compiler import brain_from_data, compile_brain, load_brain
from hamlet.compiler.graph import MODULE_ATTRIBUTES, RESERVED_NAMES
from hamlet.compiler.kinds import KINDS
from hamlet.compiler.spec import BrainSpec, LearningSpec
from hamlet.configs import ROOT
from hamlet.schemas import ObservationLayout, load_schema

SCHEMA = load_schema("brain")
DEFS = SCHEMA["$defs"]
SCHEMA_OF_KIND = {
    "mlp": "mlp",
    "conv": "conv",
    "concat": "concat",
    "lstm": "recurrent",
    "gru": "recurrent",
    "layer_norm": "layer_norm",
    "q_head": "q_head",
}


def _default(schema: dict) -> object:
    if "$ref" in schema and "default" not in schema:
        return _default(DEFS[schema["$ref"].split("/")[-1]])
    return schema.get("default", "<required>")


def _model_default(model: type[BaseModel], name: str) -> object:
    info = model.model_fields[name]
    if info.is_required():
        return "<required>"
    value = info.get_default(call_default_factory=True)
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _assert_in_sync(model: type[BaseModel], schema: dict) -> None:
    properties = schema["properties"]
    assert set(model.model_fields) == set(properties)
    for name, prop in properties.items():
        schema_default = _default(prop)
        if schema_default == "<required>" and "default" not in prop and "properties" in prop:
            continue  # nested object without its own default: its fields are checked below
        if name == "kind":
            continue
        assert _model_default(model, name) == schema_default, name


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_node_kind_matches_its_schema(kind):
    schema = DEFS[SCHEMA_OF_KIND[kind]]
    _assert_in_sync(KINDS[kind].spec, schema)
    required = set(schema.get("required", []))
    assert required == {n for n, f in KINDS[kind].spec.model_fields.items() if f.is_required()}


def test_node_kind_enum_is_the_registry():
    assert set(DEFS["node"]["properties"]["kind"]["enum"]) == set(KINDS)


def test_learning_section_matches_its_schema():
    schema = DEFS["learning"]
    _assert_in_sync(LearningSpec, schema)
    for section in ("target_update", "replay", "sequence"):
        sub_model = LearningSpec.model_fields[section].annotation
        _assert_in_sync(sub_model, schema["properties"][section])


def test_top_level_keys_match():
    assert set(BrainSpec.model_fields) == set(SCHEMA["properties"])


def test_reserved_names_cover_every_module_attribute():
    attributes = {n for n in dir(torch.nn.Module) if re.fullmatch(r"[a-z][a-z0-9_]*", n)}
    attributes |= {n for n in vars(torch.nn.Linear(1, 1)) if re.fullmatch(r"[a-z][a-z0-9_]*", n)}
    attributes -= {"in_features", "out_features"}  # attributes of Linear, not of Module
    assert attributes <= MODULE_ATTRIBUTES
    assert {"forward", "trunk", "obs", "h", "c", "class", "lambda"} <= RESERVED_NAMES


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_reserved_names_cover_the_functions_the_generated_file_defines(kind):
    # A node named like one of them would shadow it inside the generated trunk.
    data = copy.deepcopy(load_brain("recurrent_spatial_q").doc.data)
    data["network"]["lstm"]["kind"] = kind
    data["network"]["q_head"]["noisy"] = {"sigma0": 0.5}
    layout = ObservationLayout.from_shapes(
        {"grid": (5, 5), "position": (2,), "meters": (8,), "affordance": (15,), "temporal": (4,)},
        6,
    )
    source = compile_brain(brain_from_data(data), layout=layout).source
    defined = {
        node.name
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and re.fullmatch(r"[a-z][a-z0-9_]*", node.name)
    }
    assert f"{kind}_step" in defined
    assert defined <= RESERVED_NAMES


@pytest.mark.parametrize(
    "path", sorted(ROOT.glob("**/brain.yaml")) + sorted(ROOT.glob("builtins/*.yaml")), ids=str
)
def test_every_brain_file_declares_its_schema_for_editors(path: Path):
    first = path.read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    assert (path.parent / match.group(1)).resolve() == (
        ROOT.parent / "schemas" / "brain.schema.json"
    ).resolve()

"""The verdict on a document never depends on which validator gave it.

``validate_document`` asks jsonschema-rs first and lets the Python ``jsonschema``
explain a failure. The two must agree: here each path is forced in turn on names
that only differ in how a regex dialect reads ``$`` (a trailing newline), and the
Python validator must find the same error at the same place as the fast path.
"""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import Any

import pytest

from hamlet.schemas import SpecError, validate
from hamlet.schemas.source import YamlDocument
from hamlet.schemas.validate import _fast_validator, _validator, ecma_regex, validate_document

BRAIN = {
    "name": "ok",
    "observation": {"fields": [{"name": "meters", "shape": [8]}], "actions": 6},
    "network": {
        "encoder": {"kind": "mlp", "input": "obs.meters", "hidden": [8]},
        "head": {"kind": "q_head", "input": "encoder"},
    },
}


def _with(path: tuple[Any, ...], value: Any, *, key: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(BRAIN)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if key:  # rename the key at `path` to `value`
        parent[value] = parent.pop(path[-1])
    else:
        parent[path[-1]] = value
    return data


# Each bad name, with the YAML path its error must be reported at.
BAD_NAMES = {
    "brain name": (_with(("name",), "Evil\n"), "name"),
    "node name": (
        _with(("network", "encoder"), "head\n", key=True),
        'network["head\\n"]',
    ),
    "node input": (_with(("network", "head", "input"), "encoder\n"), "network.head.input"),
    "field name": (
        _with(("observation", "fields", 0, "name"), "meters\n"),
        "observation.fields[0].name",
    ),
    "observation input": (
        _with(("network", "encoder", "input"), "obs.meters\n"),
        "network.encoder.input",
    ),
}


class _SaysInvalid:
    """Stands in for jsonschema-rs so that the Python validator always explains."""

    def is_valid(self, data: Any) -> bool:
        return False


@pytest.mark.parametrize("case", sorted(BAD_NAMES))
def test_both_validators_reject_a_name_with_a_trailing_newline(case):
    data, _ = BAD_NAMES[case]
    assert not _fast_validator("brain").is_valid(data)
    assert not _validator("brain").is_valid(data)


@pytest.mark.parametrize("case", sorted(BAD_NAMES))
@pytest.mark.parametrize("path", ["fast", "python"])
def test_the_error_is_the_same_whichever_validator_runs_first(case, path, monkeypatch):
    data, where = BAD_NAMES[case]
    if path == "python":
        monkeypatch.setattr(validate, "_fast_validator", lambda name: _SaysInvalid())
    with pytest.raises(SpecError) as info:
        validate_document(YamlDocument("brain.yaml", "", data), "brain")
    assert (info.value.code, info.value.path) == ("E114", where)


def test_the_good_brain_passes_both_validators():
    assert _fast_validator("brain").is_valid(BRAIN)
    assert _validator("brain").is_valid(BRAIN)
    validate_document(YamlDocument("brain.yaml", "", copy.deepcopy(BRAIN)), "brain")


def test_a_disagreement_is_refused_not_accepted(monkeypatch):
    monkeypatch.setattr(validate, "_fast_validator", lambda name: _SaysInvalid())
    with pytest.raises(SpecError) as info:
        validate_document(YamlDocument("brain.yaml", "", copy.deepcopy(BRAIN)), "brain")
    assert info.value.code == "E114"
    assert "hamletc schema brain" in info.value.hint


SCHEMAS = sorted(
    p.name.removesuffix(".schema.json")
    for p in resources.files("hamlet.schemas").iterdir()
    if p.name.endswith(".schema.json")
)


def _patterns(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        own = [schema["pattern"]] if isinstance(schema.get("pattern"), str) else []
        return own + [p for value in schema.values() for p in _patterns(value)]
    if isinstance(schema, list):
        return [p for value in schema for p in _patterns(value)]
    return []


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_patterns_use_only_what_both_regex_dialects_read_alike(name):
    # ecma_regex translates `$` only; anything else that Python's re and ECMA-262 read
    # differently (\d, \w, \s and \b are Unicode-aware in Python, `.` differs on line
    # separators, lookbehinds and named groups are spelt differently) must not appear.
    text = resources.files("hamlet.schemas").joinpath(f"{name}.schema.json").read_text()
    for pattern in _patterns(json.loads(text)):
        stripped = re.sub(r"\\[.\-\[\]()^$]", "", pattern)  # escaped literals are alike
        assert not re.search(r"\\[dDwWsSbB]|\.|\(\?", stripped), pattern


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^[a-z]+$", "head", True),
        ("^[a-z]+$", "head\n", False),
        ("^[$a-z]+$", "a$", True),  # a `$` inside a class is a literal
        (r"^a\$$", "a$", True),  # so is an escaped one
        (r"^a\$$", "a$\n", False),
    ],
)
def test_ecma_regex_reads_dollar_as_the_end_of_the_text(pattern, text, matches):
    assert bool(ecma_regex(pattern).search(text)) is matches

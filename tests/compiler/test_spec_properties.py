"""Property: whatever a spec looks like, compiling it succeeds or raises SpecError.

Hypothesis mutates valid specs (values swapped for random data, keys dropped or
added) and garbles their YAML text (characters inserted, deleted, replaced,
truncated). No mutation may escape as any other exception, and whatever does
compile must produce syntactically valid Python.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from hamlet.compiler import SpecError, brain_from_data, compile_brain, load_brain
from hamlet.configs import pack_dir
from hamlet.schemas.validate import _fast_validator, _validator

from ..conftest import FULL_L1, PARTIAL_L2

SEEDS = {
    "simple_q": FULL_L1,
    "recurrent_spatial_q": PARTIAL_L2,
}
SEED_DATA = {name: load_brain(name).doc.data for name in SEEDS}
SEED_TEXT = {
    "L1": (pack_dir("L1_full_observability") / "brain.yaml").read_text(),
    "recurrent": load_brain("recurrent_spatial_q").doc.text,
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["auto", "obs", "obs.grid", "obs.nope", "net", "q_head", "mlp", "lstm"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, (*prefix, index))
    return out


def _set(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return data


def _delete(data: Any, path: tuple) -> Any:
    if not path:
        return data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return data


def _ints(data: Any) -> list[int]:
    if isinstance(data, dict):
        return [i for v in data.values() for i in _ints(v)]
    if isinstance(data, list):
        return [i for v in data for i in _ints(v)]
    return [data] if isinstance(data, int) and not isinstance(data, bool) else []


def _outcome_is_clean(run) -> None:
    try:
        brain = run()
    except SpecError as error:
        assert error.errors and all(d.code and d.message for d in error.errors)
        return
    compile(brain.source, "<generated>", "exec")  # the emitted source is valid Python
    if max(_ints(brain.to_dict()["network"]), default=0) <= 1024:  # small enough to build
        module = brain.instantiate()
        obs = torch.zeros(2, brain.layout.obs_dim)
        q = module(obs, *module.initial_state(2))[0] if module.recurrent else module(obs)
        assert q.shape == (2, brain.layout.num_actions)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    data=st.data(),
    edits=st.lists(st.sampled_from(["replace", "delete", "add"]), min_size=1, max_size=3),
)
def test_mutated_specs_raise_only_spec_errors(seed, data, edits):
    spec = copy.deepcopy(SEED_DATA[seed])
    for edit in edits:
        paths = _paths(spec)
        path = data.draw(st.sampled_from(paths), label="path")
        if edit == "replace":
            spec = _set(spec, path, data.draw(values, label="value"))
        elif edit == "delete":
            spec = _delete(spec, path)
        else:
            target = spec
            for part in path:
                target = target[part]
            if isinstance(target, dict):
                target[data.draw(st.text(max_size=8), label="key")] = data.draw(values)
            elif isinstance(target, list):
                target.append(data.draw(values, label="item"))
    layout = SEEDS[seed]
    if not isinstance(spec, dict):
        spec = {"network": spec}
    # the Rust fast path and the Python validator that explains errors agree
    assert _fast_validator("brain").is_valid(spec) == _validator("brain").is_valid(spec)
    _outcome_is_clean(lambda: compile_brain(brain_from_data(spec), layout=layout))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(sorted(SEED_TEXT)),
    data=st.data(),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["insert", "delete", "replace", "truncate"]),
            st.floats(min_value=0, max_value=1),
            st.sampled_from([*list(" \t\n:-[]{},#&*!|>'\"%@`\\"), "\x00", "é", "0", "a"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_garbled_yaml_raises_only_spec_errors(which, data, edits):
    text = SEED_TEXT[which]
    for op, where, char in edits:
        at = int(where * len(text))
        if op == "insert":
            text = text[:at] + char + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + 1 :]
        elif op == "replace":
            text = text[:at] + char + text[at + 1 :]
        else:
            text = text[:at]
    layout = FULL_L1 if which == "L1" else PARTIAL_L2
    with tempfile.TemporaryDirectory() as folder:
        # inside a copy of the pack folder layout so that relative `extends` still resolves
        path = Path(folder) / "brain.yaml"
        path.write_text(text, encoding="utf-8")
        _outcome_is_clean(lambda: compile_brain(path, layout=layout))


def test_the_seeds_themselves_compile():
    for name, layout in SEEDS.items():
        assert compile_brain(name, layout=layout).spec_hash
    yaml = YAML(typ="safe")
    assert yaml.load(SEED_TEXT["L1"])["extends"] == "simple_q"

"""Property: every valid spec compiles, its source is valid Python, and its module runs.

Hypothesis builds brains the schema accepts: observation fields of random names and
shapes, encoders of every kind, an optional memory, a head with any of its options,
random node names, brain names, descriptions and action names. Each must compile,
emit source that ``compile()`` accepts, build a module whose parameter count is the
memory estimate's, and map a batch of observations to one Q-value per action.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hamlet.compiler import brain_from_data, compile_brain
from hamlet.compiler.graph import RESERVED_NAMES
from hamlet.compiler.kinds import KINDS

IDENTIFIER = r"[a-z][a-z0-9_]{0,10}"
node_names = st.from_regex(IDENTIFIER, fullmatch=True).filter(lambda n: n not in RESERVED_NAMES)
# Text as a student may write it: any character but controls (tabs and newlines are
# fine) and surrogates, with the quotes and backslashes that could break a docstring.
plain_text = st.lists(
    st.one_of(
        st.characters(exclude_categories=("Cc", "Cs")),
        st.sampled_from(['"""', '"', "\\", "\n", "\t", "'''"]),
    ),
    max_size=20,
).map("".join)
widths = st.integers(min_value=1, max_value=24)
activations = st.sampled_from(["relu", "tanh", "gelu", "silu", "elu", "leaky_relu"])


@st.composite
def observations(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(
        st.lists(st.from_regex(IDENTIFIER, fullmatch=True), min_size=1, max_size=3, unique=True)
    )
    shapes = st.one_of(
        st.tuples(widths),
        st.tuples(st.integers(3, 6), st.integers(3, 6)),
        st.tuples(st.integers(1, 3), st.integers(3, 6), st.integers(3, 6)),
    )
    return [{"name": n, "shape": list(draw(shapes))} for n in names]


def encoder(draw: st.DrawFn, source: str, shape: list[int]) -> dict[str, Any]:
    """A node reading ``source`` (conv only for grids)."""
    kinds = ["mlp", "layer_norm"] + (["conv"] if len(shape) >= 2 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "mlp":
        return {
            "kind": "mlp",
            "input": source,
            "hidden": draw(st.lists(widths, min_size=1, max_size=3)),
            "activation": draw(activations),
            "layer_norm": draw(st.booleans()),
        }
    if kind == "layer_norm":
        return {"kind": "layer_norm", "input": source, "eps": draw(st.sampled_from([1e-5, 1e-3]))}
    conv: dict[str, Any] = {
        "kind": "conv",
        "input": source,
        "channels": draw(st.lists(st.integers(1, 6), min_size=1, max_size=2)),
        "kernel_size": draw(st.integers(1, 3)),
        "stride": draw(st.integers(1, 2)),
        "padding": 1,
        "activation": draw(activations),
    }
    if draw(st.booleans()):
        conv["projection"] = {"features": draw(widths), "layer_norm": draw(st.booleans())}
    return conv


@st.composite
def brains(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(observations())
    names = iter(draw(st.lists(node_names, min_size=len(fields) + 3, max_size=8, unique=True)))
    network: dict[str, Any] = {}
    features = []
    for field in fields:
        if draw(st.booleans()):
            name = next(names)
            network[name] = encoder(draw, f"obs.{field['name']}", field["shape"])
            features.append(name)
        else:
            features.append(f"obs.{field['name']}")
    if len(features) > 1:
        network[last := next(names)] = {"kind": "concat", "inputs": features}
    else:
        last = features[0]
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["lstm", "gru"]))
        memory = {"kind": kind, "input": last, "hidden_size": draw(widths)}
        memory["num_layers"] = draw(st.integers(1, 2))
        network[last := next(names)] = memory
    head: dict[str, Any] = {
        "kind": "q_head",
        "input": last,
        "hidden": draw(st.lists(widths, max_size=2)),
        "activation": draw(activations),
        "layer_norm": draw(st.booleans()),
        "dueling": draw(st.booleans()),
    }
    if draw(st.booleans()):
        head["distributional"] = {"atoms": draw(st.integers(2, 11)), "v_min": -1.5, "v_max": 2.0}
    if draw(st.booleans()):
        head["noisy"] = {"sigma0": draw(st.sampled_from([0.1, 0.5]))}
    network[next(names)] = head
    actions = draw(st.one_of(st.integers(1, 7), st.lists(plain_text, min_size=1, max_size=5)))
    return {
        "name": draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,15}", fullmatch=True)),
        "description": draw(plain_text),
        "observation": {"fields": fields, "actions": actions},
        "network": network,
    }


def _parameters(brain: Any) -> int:
    """The parameter count the resolver's memory estimate starts from."""
    return sum(
        cost.params
        for node in brain.resolved.nodes
        for cost in KINDS[node.kind].cost(node.spec, list(node.inputs))
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=brains())
@example(  # names of the generated module's own classes, and text that ends a docstring
    spec={
        "name": "q_head",
        "description": 'ends with """ and \\',
        "observation": {"fields": [{"name": "x", "shape": [3]}], "actions": ['"""', "\\"]},
        "network": {"head": {"kind": "q_head", "input": "obs", "dueling": True, "noisy": True}},
    }
)
@example(
    spec={
        "name": "NoisyLinear",
        "observation": {"fields": [{"name": "x", "shape": [3]}], "actions": 2},
        "network": {"head": {"kind": "q_head", "input": "obs", "noisy": True}},
    }
)
def test_every_valid_spec_compiles_and_runs(spec):
    brain = compile_brain(brain_from_data(spec))
    compile(brain.source, "<generated>", "exec")
    torch.manual_seed(0)
    module = brain.instantiate()
    assert sum(p.numel() for p in module.parameters()) == _parameters(brain)
    obs = torch.rand(3, brain.layout.obs_dim)
    q = module(obs, *module.initial_state(3))[0] if module.recurrent else module(obs)
    actions = spec["observation"]["actions"]
    assert q.shape == (3, actions if isinstance(actions, int) else len(actions))
    assert torch.isfinite(q).all()
    assert brain.layout.obs_dim == sum(math.prod(f["shape"]) for f in spec["observation"]["fields"])

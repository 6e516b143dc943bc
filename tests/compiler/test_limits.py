"""Sizes have limits: a brain whose training would need more memory than the limit is
refused (E134) at the size that makes it large, before anything is allocated; the
limit can be raised. Text and numbers that would break the generated code are refused.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hamlet.compiler import (
    DEFAULT_MAX_MEMORY,
    SpecError,
    brain_from_data,
    compile_brain,
    compile_resolved,
    load_brain,
    resolve_brain,
)
from hamlet.compiler.kinds import KINDS
from hamlet.compiler.memory import count, format_bytes
from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import load_pack, load_schema, observation_layout

from ..conftest import integer_subschemas
from .conftest import run_hamletc

OBSERVATION = """\
observation:
  fields: [{name: meters, shape: [8]}, {name: grid, shape: [8, 8]}]
  actions: 6
"""
HEAD = """\
  head:
    kind: q_head
    input: {input}
"""


def brain(network: str, *, head_input: str = "body", extra: str = "") -> str:
    return OBSERVATION + "network:\n" + network + HEAD.format(input=head_input) + extra


# name -> (brain.yaml text, YAML path of the E134 error)
TOO_LARGE = {
    "mlp hidden 1e9": (
        brain("  body: {kind: mlp, input: obs.meters, hidden: [64, 1e9]}\n"),
        "network.body.hidden[1]",
    ),
    "mlp hidden 2**70": (
        brain(f"  body: {{kind: mlp, input: obs, hidden: [{2**70}]}}\n"),
        "network.body.hidden[0]",
    ),
    "mlp hidden 10**4000": (
        brain(f"  body: {{kind: mlp, input: obs, hidden: [{10**4000}]}}\n"),
        "network.body.hidden[0]",
    ),
    "atoms 1e9": (
        brain("", head_input="obs", extra="    distributional: {atoms: 1e9}\n"),
        "network.head.distributional.atoms",
    ),
    "lstm hidden_size 1e9": (
        brain("  body: {kind: lstm, input: obs, hidden_size: 1000000000}\n"),
        "network.body.hidden_size",
    ),
    "conv channels 1e7": (
        brain("  body: {kind: conv, input: obs.grid, channels: [10000000]}\n"),
        "network.body.channels[0]",
    ),
    "conv projection 1e9": (
        brain(
            "  body: {kind: conv, input: obs.grid, channels: [8], "
            "projection: {features: 1000000000}}\n"
        ),
        "network.body.projection.features",
    ),
    "head reads a huge node": (  # 8 channels of 518 x 518 into 100,000 units
        brain(
            "  body: {kind: conv, input: obs.grid, channels: [8], padding: 256}\n",
            extra="    hidden: [100000]\n",
        ),
        "network.head.input",
    ),
    "observation field [1e6, 1e6]": (
        brain("  body: {kind: mlp, input: obs.meters, hidden: [8]}\n").replace(
            "[8, 8]", "[1000000, 1000000]"
        ),
        "observation.fields[1].shape",
    ),
    "head actions 1e9": (
        OBSERVATION.replace("actions: 6", "actions: auto")
        + "network:\n"
        + HEAD.format(input="obs")
        + "    actions: 1000000000\n",
        "network.head.actions",
    ),
    "replay capacity 1e12": (
        brain("", head_input="obs", extra="learning:\n  replay: {capacity: 1e12}\n"),
        "learning.replay.capacity",
    ),
    "batch_size 1e9": (
        brain("", head_input="obs", extra="learning:\n  batch_size: 1e9\n"),
        "learning.batch_size",
    ),
    "sequence length 1e9": (
        brain(
            "  body: {kind: gru, input: obs, hidden_size: 16}\n",
            extra="learning:\n  sequence: {length: 1000000000}\n",
        ),
        "learning.sequence.length",
    ),
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "brain.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(TOO_LARGE))
def test_a_size_too_large_to_train_is_refused_where_it_is_written(case, tmp_path):
    text, path = TOO_LARGE[case]
    with pytest.raises(SpecError) as info:
        resolve_brain(load_brain(write(tmp_path, text)))
    error = info.value
    assert [(d.code, d.path) for d in error.errors] == [("E134", path)], str(error)
    assert error.line is not None
    assert "more than the limit of 8.0 GiB" in error.errors[0].message
    assert "--max-memory" in error.hint


def test_the_message_says_how_much_and_what_weighs_most(tmp_path):
    text, _ = TOO_LARGE["lstm hidden_size 1e9"]
    with pytest.raises(SpecError) as info:
        resolve_brain(load_brain(write(tmp_path, text)))
    message = info.value.errors[0].message
    # 4 gates x h x (64 + 8 + 8 + h) weights and 8 h biases, for h = 1e9, held 5 times
    assert "node 'body': 10^18 parameters" in message
    assert "would need about 69.4 EiB" in message
    assert "make `hidden_size` smaller" in info.value.hint


def test_the_limit_is_a_keyword_of_the_compile_api(tmp_path):
    path = write(tmp_path, brain("  body: {kind: mlp, input: obs, hidden: [256, 256]}\n"))
    brain_ = compile_brain(path)  # about 11 MiB: well under the default
    with pytest.raises(SpecError) as info:
        compile_brain(path, max_memory=2**20)
    assert info.value.code == "E134"
    assert "more than the limit of 1.0 MiB" in str(info.value)
    with pytest.raises(SpecError):
        compile_resolved(brain_.to_dict(), max_memory=2**20)
    assert compile_resolved(brain_.to_dict()).spec_hash == brain_.spec_hash


BIG = brain(
    "  body: {kind: mlp, input: obs, hidden: [8, 150000000]}\n",
    extra="learning: {batch_size: 1}\n",
)


def test_a_raised_limit_lets_a_large_brain_through(tmp_path):
    # 2.25e9 parameters: about 45 GiB to train, over the default 8 GiB. Resolving
    # allocates nothing, so the test can afford a brain this size.
    path = write(tmp_path, BIG)
    with pytest.raises(SpecError):
        resolve_brain(load_brain(path))
    resolved = resolve_brain(load_brain(path), max_memory=64 * 2**30)
    assert resolved.nodes[0].output == (150_000_000,)


def test_the_default_limit_leaves_every_shipped_brain_far_below_it():
    for name in PACK_NAMES:
        layout = observation_layout(load_pack(pack_dir(name)))
        resolve_brain(load_brain(pack_dir(name) / "brain.yaml"), layout, max_memory=2**27)
    assert DEFAULT_MAX_MEMORY == 8 * 2**30  # documented in docs/brain.md and the CLI help


def test_the_parameter_estimate_is_exact_for_every_shipped_brain():
    for name in PACK_NAMES:
        layout = observation_layout(load_pack(pack_dir(name)))
        brain_ = compile_brain(pack_dir(name) / "brain.yaml", layout=layout)
        estimated = sum(
            cost.params
            for node in brain_.resolved.nodes
            for cost in KINDS[node.kind].cost(node.spec, list(node.inputs))
        )
        module = brain_.instantiate()
        assert estimated == sum(p.numel() for p in module.parameters()), name


# Integers of brain.schema.json with no maximum: the memory estimate bounds them (E134),
# so a user can raise the bound with the limit. Every other integer has a maximum.
BOUNDED_BY_MEMORY = {
    "/properties/observation/properties/fields/items/properties/shape/items",
    "/properties/observation/properties/actions/anyOf/1",
    "/$defs/auto_size/anyOf/1",  # input_size, in_channels, actions of a node
    "/$defs/layers/items",
    "/$defs/conv/properties/channels/items",
    "/$defs/conv/properties/projection/anyOf/1/properties/features",
    "/$defs/recurrent/properties/hidden_size",
    "/$defs/q_head/properties/distributional/anyOf/1/properties/atoms",
    "/$defs/learning/properties/batch_size",
    "/$defs/learning/properties/replay/properties/capacity",
    "/$defs/learning/properties/sequence/properties/length",
    "/$defs/learning/properties/sequence/properties/burn_in",
}


def test_every_brain_integer_has_a_maximum_or_is_bounded_by_memory():
    integers = integer_subschemas(load_schema("brain"))
    assert {path for path, schema in integers if "maximum" not in schema} == BOUNDED_BY_MEMORY


@pytest.mark.parametrize(
    ("n", "bytes_", "count_"),
    [
        (512, "512 bytes", "512"),
        (3 * 2**29, "1.5 GiB", "1,610,612,736"),
        (2**69, "512.0 EiB", "10^20"),
        (10**400, "10^400 bytes", "10^400"),
    ],
)
def test_sizes_are_shown_readably_however_large(n, bytes_, count_):
    assert (format_bytes(n), count(n)) == (bytes_, count_)


def test_a_float_no_64_bit_integer_holds_is_out_of_range(tmp_path):
    text = brain("  body: {kind: mlp, input: obs, hidden: [1e23]}\n")
    with pytest.raises(SpecError) as info:
        load_brain(write(tmp_path, text))
    assert (info.value.code, info.value.path) == ("E113", "network.body.hidden[0]")
    assert info.value.errors[0].message == "1e+23 is too large a number here"


# --- text that would break the generated source ---------------------------------------


@pytest.mark.parametrize(
    ("text", "character"),
    [("a\x00b", "U+0000"), ("a\ud800b", "U+D800"), ("\x1b[2J", "U+001B"), ("\x85", "U+0085")],
)
def test_a_description_with_a_control_character_or_surrogate_is_refused(text, character):
    data = {"description": text, "network": {"head": {"kind": "q_head", "input": "obs"}}}
    with pytest.raises(SpecError) as info:
        brain_from_data(data)
    assert (info.value.code, info.value.path) == ("E114", "description")
    assert character in info.value.errors[0].message


def test_a_control_character_in_an_action_name_is_refused():
    data = {
        "observation": {"fields": [{"name": "x", "shape": [2]}], "actions": ["UP", "\x00"]},
        "network": {"head": {"kind": "q_head", "input": "obs"}},
    }
    with pytest.raises(SpecError) as info:
        brain_from_data(data)
    assert (info.value.code, info.value.path) == ("E114", "observation.actions[1]")


def test_tabs_and_newlines_in_a_description_compile(full_layout):
    data = {
        "description": 'line one\n\tline two """ \\',
        "network": {"head": {"kind": "q_head", "input": "obs"}},
    }
    source = compile_brain(brain_from_data(data), layout=full_layout).source
    compile(source, "<generated>", "exec")


def test_nan_anywhere_in_a_brain_is_refused_at_its_place(tmp_path):
    text = brain("", head_input="obs", extra="    distributional: {v_min: .nan}\n")
    with pytest.raises(SpecError) as info:
        load_brain(write(tmp_path, text))
    assert (info.value.code, info.value.path) == ("E114", "network.head.distributional.v_min")


# --- hamletc ----------------------------------------------------------------------------


def test_hamletc_version(capsys):
    code, out, _ = run_hamletc(capsys, "--version")
    assert code == 0
    assert out.startswith("hamletc ") and out.split()[1][0].isdigit()


def test_hamletc_max_memory_raises_the_limit(tmp_path, capsys):
    path = write(tmp_path, BIG)
    code, _, err = run_hamletc(capsys, "check", str(path))
    assert code == 1 and "error[E134]" in err
    code, out, err = run_hamletc(capsys, "check", str(path), "--max-memory", "64")
    assert code == 0, err
    assert out.startswith("ok")


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "lots"])
def test_hamletc_refuses_a_max_memory_that_cannot_work(value, capsys):
    code, _, err = run_hamletc(capsys, "check", "simple_q", "--max-memory", value)
    assert code == 2
    assert "not a positive number of GiB" in err


@pytest.mark.parametrize(
    ("flags", "place"),
    [
        (["--obs", "grid=1000000x1000000", "--actions", "6"], "(--obs grid)"),
        (["--obs", "meters=8", "--actions", "1000000000"], "(--actions)"),
    ],
)
def test_hamletc_refuses_a_huge_observation_from_its_flags(flags, place, capsys):
    code, _, err = run_hamletc(capsys, "check", "simple_q", *flags)
    assert code == 2  # the flags' values cannot work: a usage error, as `hamlet run --agents`
    assert "error[E134]" in err and place in err


def _limited_memory() -> None:
    limit = 2 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is how Linux caps memory")
def test_hamletc_check_refuses_a_billion_actions_without_allocating_them(tmp_path):
    # The 4-line brain that once made `hamletc check` eat memory until it was killed:
    # now it runs under a 2 GiB cap and says why it refuses.
    path = write(
        tmp_path,
        """\
        observation: {fields: [{name: meters, shape: [8]}], actions: 1000000000}
        network:
          head: {kind: q_head, input: obs.meters}
        """,
    )
    hamletc = Path(sys.executable).parent / "hamletc"
    env = {**os.environ, "NO_COLOR": "1"}
    for argv, status in (
        ([str(path)], 1),  # the brain's file
        (["simple_q", "--obs", "meters=8", "--actions", "1000000000"], 2),  # the flags
    ):
        result = subprocess.run(
            [str(hamletc), "check", *argv],
            capture_output=True,
            text=True,
            env=env,
            preexec_fn=_limited_memory,
            timeout=60,
        )
        assert result.returncode == status, result.stderr
        assert "error[E134]" in result.stderr
        assert "Traceback" not in result.stderr

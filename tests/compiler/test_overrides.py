"""Settings from the command line in the compiler: brains (on top of ``extends``), the
spec hash, the texts of an overridden pack (pack_texts) and ``hamletc --set``."""

from __future__ import annotations

import doctest
import importlib
import json
import shutil

import pytest

from hamlet.compiler import compile_brain, load_brain, pack_texts
from hamlet.configs import builtin_path, pack_dir
from hamlet.schemas import (
    COMMAND_LINE,
    SpecError,
    load_pack,
    observation_layout,
    parse_override,
    parse_overrides,
)
from hamlet.schemas.source import load_yaml, parse_yaml

from .conftest import run_hamletc

L1 = pack_dir("L1_full_observability")
L2 = pack_dir("L2_partial_observability")
WORLD_FILES = ("training.yaml", "bars.yaml", "affordances.yaml", "cascades.yaml")


def compiled(pack, overrides=()):
    layout = observation_layout(load_pack(pack, overrides=overrides))
    return compile_brain(pack / "brain.yaml", layout=layout, overrides=overrides)


def test_a_brain_override_applies_on_top_of_the_built_in_it_extends():
    overrides = parse_overrides(["network.net.hidden=[32]", "learning.gamma=0.9"])
    spec = load_brain(L1 / "brain.yaml", overrides=overrides).spec
    assert spec.network["net"].hidden == [32]  # from simple_q, overridden
    assert spec.network["net"].layer_norm is True  # from simple_q, kept
    assert spec.learning.gamma == 0.9
    assert spec.learning.learning_rate == 0.00025  # from the pack's brain.yaml, kept


def test_an_error_in_an_overridden_value_points_at_the_override_not_the_base():
    overrides = parse_overrides(["learning.gamma=0.9", "network.net.hidden=[0]"])
    with pytest.raises(SpecError) as info:
        load_brain(L1 / "brain.yaml", overrides=overrides)
    assert (info.value.code, info.value.file, info.value.line) == ("E113", COMMAND_LINE, 2)
    assert info.value.path == "network.net.hidden[0]"
    assert info.value.column == len("--set network.net.hidden=[") + 1


def test_a_kind_specific_key_is_checked_against_the_nodes_own_kind():
    with pytest.raises(SpecError) as info:
        load_brain("simple_q", overrides=parse_overrides(["network.net.channels=[8]"]))
    assert info.value.code == "E110"
    assert (info.value.file, info.value.path) == (COMMAND_LINE, "network.net.channels")


def test_a_key_the_brain_does_not_write_yet_is_added():
    overrides = parse_overrides(["learning.replay.prioritized.alpha=0.5"])
    replay = load_brain(L1 / "brain.yaml", overrides=overrides).spec.learning.replay
    assert replay.prioritized.alpha == 0.5
    assert replay.prioritized.beta == 0.4  # the default
    assert replay.capacity == 10000


def test_a_key_into_a_single_value_is_a_type_error(tmp_path):
    brain = tmp_path / "brain.yaml"
    brain.write_text("extends: simple_q\nlearning:\n  replay: {prioritized: false}\n")
    with pytest.raises(SpecError) as info:
        load_brain(brain, overrides=parse_overrides(["learning.replay.prioritized.alpha=0.5"]))
    assert info.value.code == "E112"
    assert info.value.errors[0].message == (
        "'learning.replay.prioritized' is the boolean false, so it has no key 'alpha'"
    )


def test_the_spec_hash_changes_with_a_brain_override_only():
    plain = compiled(L1).spec_hash
    assert compiled(L1, parse_overrides(["learning.gamma=0.95"])).spec_hash != plain
    assert compiled(L1, parse_overrides(["run.seed=7"])).spec_hash == plain
    assert compiled(L1, parse_overrides(["learning.gamma=0.99"])).spec_hash == plain  # same value


def test_an_override_gives_the_spec_of_the_file_written_with_that_value(tmp_path):
    pack = tmp_path / "L1_full_observability"
    shutil.copytree(L1, pack)
    brain = pack / "brain.yaml"
    brain.write_text(brain.read_text().replace("gamma: 0.99", "gamma: 0.9"))
    overridden = compiled(L1, parse_overrides(["learning.gamma=0.9"]))
    assert overridden.spec_hash == compiled(pack).spec_hash


def test_compile_brain_takes_overrides_but_not_for_a_loaded_source():
    overrides = parse_overrides(["network.net.hidden=[16]"])
    layout = observation_layout(load_pack(L1))
    brain = compile_brain("simple_q", layout=layout, overrides=overrides)
    assert brain.resolved.spec.network["net"].hidden == [16]
    with pytest.raises(ValueError, match="load_brain"):
        compile_brain(load_brain("simple_q"), layout=layout, overrides=overrides)
    source = load_brain("simple_q")
    assert compile_brain(source, layout=layout, overrides=parse_overrides(["run.seed=1"]))


# --- pack_texts ---------------------------------------------------------------------------


ROUND_TRIPS = {
    "L1 every file": (
        L1,
        [
            "learning.learning_rate=3e-4",
            "network.net.hidden[0]=64",
            "learning.replay.prioritized={alpha: 0.5}",
            "exploration.epsilon.fraction=0.5",
            "training.curriculum.stages[0].depletion_multiplier=0.3",
            "bars.meters[2].initial=0.5",
            "affordances[1].instant.costs.money=0.2",
            "cascades.cascades[0].strength=0.01",
        ],
    ),
    "L2 recurrent": (L2, ["learning.sequence.burn_in=2", "network.lstm.hidden_size=64"]),
    "a node replaced whole": (L1, ["network.net={kind: q_head, input: obs, hidden: [8]}"]),
    "a base mapping replaced": (L1, ["network.net={kind: q_head, input: obs}"]),
    "no overrides": (L1, []),
}


@pytest.mark.parametrize("case", sorted(ROUND_TRIPS))
def test_pack_texts_load_as_the_overridden_pack_and_brain(case, tmp_path):
    pack, texts = ROUND_TRIPS[case]
    overrides = parse_overrides(texts)
    written = tmp_path / "config"  # another folder name: the brain's name must not change
    written.mkdir()
    for name, text in pack_texts(pack, overrides).items():
        (written / name).write_text(text, encoding="utf-8")
    expected, copy = load_pack(pack, overrides=overrides), load_pack(written)
    for part in ("bars", "affordances", "cascades", "training"):
        assert getattr(copy, part) == getattr(expected, part), part
    brain = compiled(pack, overrides)
    assert compiled(written).spec_hash == brain.spec_hash
    assert compiled(written).to_dict() == brain.to_dict()


def test_pack_texts_keep_comments_list_the_sets_and_leave_other_files_alone():
    overrides = parse_overrides(["learning.train_frequency=8", "run.seed=3"])
    texts = pack_texts(L1, overrides)
    brain, training = texts["brain.yaml"], texts["training.yaml"]
    assert brain.startswith(
        "# Settings from the command line, written into this copy:\n"
        "#   --set learning.train_frequency=8\n"
    )
    assert "  train_frequency: 8          # one gradient step every 4 environment steps" in brain
    assert "extends: simple_q\n" in brain
    assert "#   --set run.seed=3\n" in training and "--set learning" not in training
    assert "  seed: 3\n" in training
    original = (L1 / "training.yaml").read_text(encoding="utf-8")
    assert training.split("\n", 2)[2] == original.replace("  seed: 0\n", "  seed: 3\n")
    for name in ("bars.yaml", "affordances.yaml", "cascades.yaml"):
        assert texts[name] == (L1 / name).read_text(encoding="utf-8")


def test_pack_texts_write_out_a_brain_name_the_folder_gave():
    text = pack_texts(L1)["brain.yaml"]
    assert "\nname: L1_full_observability\n" in text
    assert text.startswith("# name: written out (L1_full_observability was the folder's name)")


def test_pack_texts_flatten_a_brain_whose_override_extends_cannot_carry():
    overrides = parse_overrides(["network.net={kind: q_head, input: obs}"])
    text = pack_texts(L1, overrides)["brain.yaml"]
    assert "brain.yaml extends simple_q; merged with it here" in text
    flat = parse_yaml(text).data
    assert "extends" not in flat and flat["name"] == "L1_full_observability"
    assert flat["network"] == {"net": {"kind": "q_head", "input": "obs"}}


def test_pack_texts_flatten_a_brain_that_extends_a_file(tmp_path):
    shutil.copy(builtin_path("simple_q"), tmp_path / "base.yaml")
    pack = tmp_path / "my_pack"
    shutil.copytree(L1, pack)
    brain = pack / "brain.yaml"
    brain.write_text(brain.read_text().replace("extends: simple_q", "extends: ../base.yaml"))
    elsewhere = tmp_path / "elsewhere" / "config"
    elsewhere.mkdir(parents=True)
    for name, text in pack_texts(pack).items():
        (elsewhere / name).write_text(text, encoding="utf-8")
    assert "extends" not in load_yaml(elsewhere / "brain.yaml").data
    assert compiled(elsewhere).spec_hash == compiled(pack).spec_hash


def test_pack_texts_raise_what_loading_with_the_overrides_raises():
    for text in ["learning.gamma=2", "run.seed=-1"]:
        with pytest.raises(SpecError) as info:
            pack_texts(L1, [parse_override(text)])
        assert (info.value.code, info.value.file) == ("E113", COMMAND_LINE)


def test_docstring_examples():
    result = doctest.testmod(importlib.import_module("hamlet.compiler.overridden_pack"))
    assert result.attempted > 0 and result.failed == 0


# --- hamletc --set ------------------------------------------------------------------------


def test_hamletc_check_with_set_prints_the_overridden_hash(capsys):
    brain = str(L1 / "brain.yaml")
    code, out, err = run_hamletc(capsys, "check", brain, "--set", "learning.gamma=0.95")
    assert code == 0, err
    expected = compiled(L1, parse_overrides(["learning.gamma=0.95"])).spec_hash
    assert out.strip().endswith(expected)
    assert expected != compiled(L1).spec_hash


def test_hamletc_compile_with_set_writes_the_overridden_spec(capsys, tmp_path):
    argv = ["compile", str(L1 / "brain.yaml"), "-o", str(tmp_path), "--json"]
    code, out, err = run_hamletc(capsys, *argv, "--set", "network.net.hidden=[32, 16]")
    assert code == 0, err
    resolved = json.loads((tmp_path / "resolved.json").read_text())
    assert resolved["network"]["net"]["hidden"] == [32, 16]
    assert (
        json.loads(out)["spec_hash"]
        == compiled(L1, parse_overrides(["network.net.hidden=[32, 16]"])).spec_hash
    )


def test_hamletc_graph_takes_set(capsys):
    code, out, err = run_hamletc(capsys, "graph", "simple_q", "--obs", "obs=4", "--actions", "2",
                         "--set", "network.net.hidden=[7]")  # fmt: skip
    assert code == 0, err
    assert "flowchart" in out


def test_hamletc_shows_a_bad_set_value_with_its_snippet(capsys):
    brain = str(L1 / "brain.yaml")
    code, _, err = run_hamletc(
        capsys, "check", brain, "--set", "run.seed=1", "--set", "learning.gamma=1"
    )
    assert code == 2  # run.seed is a usage error here: hamletc reads brains only
    assert "error[E300]: --set run.seed sets training.yaml, which this command does not read" in err
    argv = ["--set", "learning.gamma=0.9", "--set", "learning.batch_size=0"]
    code, _, err = run_hamletc(capsys, "check", brain, *argv)
    assert code == 1
    assert err.splitlines()[:6] == [
        "error[E113]: 0 is out of range: it must be >= 1",
        "  --> <command line>:2:27  (learning.batch_size)",
        "  1 | --set learning.gamma=0.9",
        "  2 | --set learning.batch_size=0",
        "    |                           ^",
        "  = help: use a value >= 1",
    ]


@pytest.mark.parametrize(
    ("value", "code"),
    [("learning.gamma", 2), ("lerning.gamma=1", 1), ("learning.gamma=[1", 1), ("version=", 2)],
)
def test_hamletc_refuses_a_malformed_set_without_a_traceback(capsys, value, code):
    status, _, err = run_hamletc(capsys, "check", "simple_q", "--set", value)
    assert status == code
    assert "Traceback" not in err and "<command line>:1:" in err

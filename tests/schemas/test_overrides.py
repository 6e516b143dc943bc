"""Settings from the command line (``--set KEY=VALUE``): the grammar, the key's file, the
value read as YAML, grids, and load_pack with overrides (placed errors, the schema's own
messages)."""

from __future__ import annotations

import doctest
import importlib
import json
import shutil

import pytest

from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import (
    COMMAND_LINE,
    SpecError,
    UsageError,
    command_line_source,
    expand_grid,
    load_pack,
    override_settings,
    override_texts,
    parse_grid,
    parse_override,
    parse_overrides,
    render,
)
from hamlet.schemas.override_keys import FILES
from hamlet.schemas.override_syntax import FLAG, MAX_DEPTH
from hamlet.schemas.source import format_path, load_yaml

PACK = "L1_full_observability"


def column_of(text: str, part: str) -> int:
    """The 1-based column of ``part`` of a --set's text, as diagnostics count it."""
    return len(FLAG) + text.index(part) + 1


@pytest.mark.parametrize(
    ("text", "file", "path", "value", "setting"),
    [
        ("learning.learning_rate=3e-4", "brain", ("learning", "learning_rate"), 0.0003,
         "learning.learning_rate"),
        ("exploration.epsilon.decay=0.995", "training", ("exploration", "epsilon", "decay"),
         0.995, "exploration.epsilon.decay"),
        ("brain.learning.gamma=0.9", "brain", ("learning", "gamma"), 0.9, "learning.gamma"),
        ("training.run.seed=3", "training", ("run", "seed"), 3, "run.seed"),
        ("bars.meters[2].initial=0.5", "bars", ("meters", 2, "initial"), 0.5,
         "meters[2].initial"),
        ("meters[2].initial=0.5", "bars", ("meters", 2, "initial"), 0.5, "meters[2].initial"),
        ("affordances.affordances[0].name=Bed", "affordances", ("affordances", 0, "name"), "Bed",
         "affordances[0].name"),
        ("training.curriculum.stages[0].depletion_multiplier=0.3", "training",
         ("curriculum", "stages", 0, "depletion_multiplier"), 0.3,
         "curriculum.stages[0].depletion_multiplier"),
        ("environment.action_costs.move.energy=0.01", "training",
         ("environment", "action_costs", "move", "energy"), 0.01,
         "environment.action_costs.move.energy"),
        ("network.head.hidden=[64, 64]", "brain", ("network", "head", "hidden"), [64, 64],
         "network.head.hidden"),
        ("learning.replay={capacity: 5}", "brain", ("learning", "replay"), {"capacity": 5},
         "learning.replay"),
        ("learning.double_dqn=true", "brain", ("learning", "double_dqn"), True,
         "learning.double_dqn"),
        ("learning.max_grad_norm=null", "brain", ("learning", "max_grad_norm"), None,
         "learning.max_grad_norm"),
        ("run.seed=0x10", "training", ("run", "seed"), 16, "run.seed"),
        ("description=yes", "brain", ("description",), "yes", "description"),  # YAML 1.2
        ("description='true'", "brain", ("description",), "true", "description"),
        ("description=a,b", "brain", ("description",), "a,b", "description"),
        ("description=it's", "brain", ("description",), "it's", "description"),
        ("brain.version=1", "brain", ("version",), 1, "brain.version"),
        ("cascades.version=1", "cascades", ("version",), 1, "cascades.version"),
    ],
)  # fmt: skip
def test_an_override_is_read_into_its_file_path_and_value(text, file, path, value, setting):
    override = parse_override(text)
    assert (override.file, override.path, override.value) == (file, path, value)
    assert type(override.value) is type(value)
    assert override.setting == setting
    assert override.text == text


@pytest.mark.parametrize(
    ("text", "error", "code", "at"),
    [
        ("learning.gamma", UsageError, "E300", "learning.gamma"),
        ("=0.9", UsageError, "E300", "=0.9"),
        ("learning.gamma=", UsageError, "E300", ""),
        ("learning.gamma=   ", UsageError, "E300", ""),
        ("learning..gamma=1", UsageError, "E300", ".gamma"),
        (".gamma=1", UsageError, "E300", ".gamma"),
        ("learning.=1", UsageError, "E300", "=1"),
        ("1learning=1", UsageError, "E300", "1learning"),
        ("learning gamma=1", UsageError, "E300", " gamma"),
        ("meters[x].initial=1", UsageError, "E300", "[x]"),
        ("meters[-1].initial=1", UsageError, "E300", "[-1]"),
        ("meters[].initial=1", UsageError, "E300", "[]"),
        ("meters[1.initial=1", UsageError, "E300", "[1"),
        ("learning.gamma=0.9\nrun.seed=1", UsageError, "E300", "\n"),
        ("learning.gamma=0.9\r", UsageError, "E300", "\r"),
        ("extends=recurrent_spatial_q", UsageError, "E300", "extends"),
        ("version=1", UsageError, "E300", "version"),
        ("learning.gamma=[0.9", SpecError, "E100", "[0.9"),
        ("learning.gamma=*nowhere", SpecError, "E100", "*nowhere"),
        ("learning.gamma=0.9: x", SpecError, "E100", ": x"),
        ("learning.gamma={a: 1, a: 2}", SpecError, "E101", "a: 2"),
        ("learning.gamma=!!int x", SpecError, "E112", "!!int"),
        ("learning.gamma=.nan", SpecError, "E114", ".nan"),
        ("learning.gamma=-.inf", SpecError, "E114", "-.inf"),
        ("learning.gamma=[1, .inf]", SpecError, "E114", ".inf"),
        ('description="\\0"', SpecError, "E114", '"\\0"'),
        ("learning.gamma=" + "[" * 40 + "]" * 40, SpecError, "E100", "["),
        ("learning.gama=0.9", SpecError, "E110", "gama"),
        ("lerning.gamma=0.9", SpecError, "E110", "lerning"),
        ("training.run.sed=1", SpecError, "E110", "sed"),
        ("meters.initial=1", SpecError, "E112", "initial"),
        ("learning[0]=1", SpecError, "E112", "[0]"),
    ],
)  # fmt: skip
def test_a_malformed_override_is_a_coded_error_at_its_place(text, error, code, at):
    with pytest.raises(error) as info:
        parse_override(text, index=2)
    assert info.value.code == code
    assert info.value.file == COMMAND_LINE
    assert info.value.line == 3
    expected = len(FLAG) + (text.index(at) if at else len(text)) + 1
    assert info.value.column == expected, render(info.value.errors[0])


def test_an_unknown_key_says_what_was_meant_among_the_keys_at_its_level():
    with pytest.raises(SpecError) as info:
        parse_override("learning.gama=0.9")
    assert info.value.errors[0].message == "unknown key 'gama' in 'learning'"
    assert info.value.hint == "did you mean 'gamma'?"
    assert info.value.path == "learning.gama"
    with pytest.raises(SpecError) as info:
        parse_override("training.run.sed=1")
    assert (info.value.path, info.value.hint) == ("run.sed", "did you mean 'seed'?")


def test_an_unknown_first_key_suggests_a_known_one_or_the_full_key_it_ends():
    hints = {}
    for text in ["lerning.gamma=1", "epsilon.decay=0.9", "learning_rate=1e-3", "brain=1", "zz=1"]:
        with pytest.raises(SpecError) as info:
            parse_override(text)
        assert info.value.code == "E110"
        hints[text.split("=")[0]] = info.value.hint
    assert hints["lerning.gamma"] == "did you mean 'learning'?"
    assert hints["epsilon.decay"] == "did you mean 'exploration.epsilon.decay'?"
    assert hints["learning_rate"] == (
        "did you mean 'learning.learning_rate' or 'exploration.rnd.learning_rate'?"
    )
    assert "brain.learning.gamma" in hints["brain"]
    assert hints["zz"].startswith("valid first keys: ")


def test_a_key_of_several_files_names_them_and_needs_a_file_prefix():
    with pytest.raises(UsageError) as info:
        parse_override("version=1")
    message = info.value.errors[0].message
    assert all(f"{file}.yaml" in message for file in FILES)
    assert "brain.version or training.version" in info.value.hint
    assert info.value.exit_status == 2


def test_a_command_of_some_files_reads_only_their_keys():
    brain_only = ("brain",)
    version = parse_override("version=1", files=brain_only)
    assert (version.file, version.setting) == ("brain", "brain.version")
    for text in ["run.seed=1", "training.run.seed=1"]:
        with pytest.raises(UsageError) as info:
            parse_override(text, files=brain_only)
        assert "sets training.yaml, which this command does not read" in str(info.value)
    with pytest.raises(SpecError) as info:
        parse_override("lerning.gamma=1", files=brain_only)
    assert info.value.errors[0].message == "unknown key 'lerning': brain.yaml has no such key"


def test_every_problem_of_every_set_is_reported_at_once_on_its_own_line():
    texts = ["learning.gama=0.9", "run.seed=1", "run.seed=[1"]
    with pytest.raises(SpecError) as info:
        parse_overrides(texts)
    assert [(d.code, d.line) for d in info.value.errors] == [("E110", 1), ("E100", 3)]
    with pytest.raises(UsageError) as info:  # one usage error makes it a usage error
        parse_overrides([*texts, "nokey"])
    assert [d.code for d in info.value.errors] == ["E110", "E100", "E300"]


@pytest.mark.parametrize(
    "texts",
    [
        ["learning.gamma=0.9", "brain.learning.gamma=0.8"],
        ["learning.replay={capacity: 5}", "learning.replay.capacity=6"],
        ["learning.replay.capacity=6", "learning.replay={capacity: 5}"],
    ],
)
def test_a_setting_given_twice_or_inside_another_is_refused(texts):
    with pytest.raises(SpecError) as info:
        parse_overrides(texts)
    assert (info.value.code, info.value.line) == ("E101", 2)


def test_settings_of_different_places_do_not_conflict():
    assert len(parse_overrides(["learning.replay.capacity=6", "learning.gamma=0.9"])) == 2
    assert len(parse_overrides(["meters[0].initial=1", "meters[1].initial=1"])) == 2
    assert len(parse_overrides(["brain.version=1", "training.version=1"])) == 2


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("network.head.hidden=[64,64],[128,128]", [[64, 64], [128, 128]]),
        ("learning.gamma=0.9,0.95, 0.99", [0.9, 0.95, 0.99]),
        ("learning.gamma=0.9", [0.9]),
        ("learning.target_update={every: 5, tau: 1.0},{every: 10}",
         [{"every": 5, "tau": 1.0}, {"every": 10}]),
        ("description='a, b',\"c, d\",e", ["a, b", "c, d", "e"]),
        ("description=\"a\\\",b\",c", ['a",b', "c"]),
        ("description='it''s, ok',x", ["it's, ok", "x"]),
        ("description=it's,fine", ["it's", "fine"]),
        ("learning.gamma=0.9 # the usual, or not", [0.9]),
        ("network.head.hidden=[[1, 2], [3]],[4]", [[[1, 2], [3]], [4]]),
    ],
)  # fmt: skip
def test_a_grid_splits_at_top_level_commas_only(text, values):
    overrides = parse_grid(text, index=1)
    assert [o.value for o in overrides] == values
    key = text.split("=")[0]
    assert {(o.key, o.index, o.written) for o in overrides} == {(key, 1, text)}
    for override in overrides:  # each value's place is its own, within the grid's text
        assert text[override.value_column :].startswith(override.value_text)


@pytest.mark.parametrize(
    ("text", "code", "at"),
    [
        ("learning.gamma=0.9,,0.99", "E300", ",0.99"),
        ("learning.gamma=0.9,", "E300", ""),
        ("learning.gamma=0.9,[1", "E100", "[1"),
        ("learning.gamma=0.9,.nan", "E114", ".nan"),
    ],
)
def test_a_bad_value_of_a_grid_is_placed_at_that_value(text, code, at):
    with pytest.raises((SpecError, UsageError)) as info:
        parse_grid(text)
    assert info.value.code == code
    assert info.value.column == len(FLAG) + (text.rindex(at) if at else len(text)) + 1


def test_expand_grid_gives_every_combination_in_order():
    combos = expand_grid(["run.seed=0,1", "learning.gamma=0.9,0.99", "description=x"])
    assert [[o.value for o in combo] for combo in combos] == [
        [0, 0.9, "x"],
        [0, 0.99, "x"],
        [1, 0.9, "x"],
        [1, 0.99, "x"],
    ]
    assert [o.index for o in combos[0]] == [0, 1, 2]
    with pytest.raises(SpecError) as info:
        expand_grid(["run.seed=0,1", "training.run.seed=2"])
    assert info.value.code == "E101"


def test_settings_are_canonical_json_ready_and_read_back():
    overrides = parse_overrides(
        [
            "brain.learning.learning_rate=3e-4",
            "exploration.epsilon.decay=0.995",
            "bars.meters[2].initial=0.5",
            "training.version=1",
            "network.head.hidden=[64, 64]",
            "description='café, \"quoted\"'",
        ]
    )
    settings = override_settings(overrides)
    assert settings == {
        "learning.learning_rate": 0.0003,
        "exploration.epsilon.decay": 0.995,
        "meters[2].initial": 0.5,
        "training.version": 1,
        "network.head.hidden": [64, 64],
        "description": 'café, "quoted"',
    }
    assert json.loads(json.dumps(settings, allow_nan=False)) == settings
    again = parse_overrides(override_texts(settings))
    assert override_settings(again) == settings
    assert [(o.file, o.path) for o in again] == [(o.file, o.path) for o in overrides]
    # however a setting is written, it has one canonical key
    spellings = ["learning.gamma=1", "brain.learning.gamma=1"]
    assert {parse_override(text).setting for text in spellings} == {"learning.gamma"}


def test_the_command_line_source_has_one_line_per_set_and_keeps_columns():
    texts = ["learning.gamma=0.9", "description=a\tb", "run.seed=1\n"]
    lines = command_line_source(texts).split("\n")
    assert lines == [
        "--set learning.gamma=0.9",
        "--set description=a\ufffdb",
        "--set run.seed=1\ufffd",
    ]
    texts = ["run.seed=1", "learning.gama=1.5"]
    with pytest.raises(SpecError) as info:
        parse_overrides(texts)
    shown = render(info.value.errors[0], command_line_source(texts))
    assert shown.splitlines()[2:5] == [
        "  1 | --set run.seed=1",
        "  2 | --set learning.gama=1.5",
        "    |                ^^^^^^^^",
    ]


# --- load_pack with overrides -----------------------------------------------------------


def test_load_pack_applies_overrides_of_every_world_file():
    overrides = parse_overrides(
        [
            "exploration.epsilon.fraction=0.5",
            "bars.meters[2].initial=0.5",
            "training.curriculum.stages[0].depletion_multiplier=0.3",
            "affordances[0].instant.costs={money: 0.1}",
            "run.keep_checkpoints=2",
            "learning.gamma=0.5",  # the compiler's, not load_pack's
        ]
    )
    plain, pack = load_pack(PACK), load_pack(PACK, overrides=overrides)
    assert pack.training.exploration.epsilon.fraction == 0.5
    assert pack.bars.meters[2].initial == 0.5
    assert pack.training.curriculum.stages[0].depletion_multiplier == 0.3
    assert pack.affordances.affordances[0].instant.costs == {"money": 0.1}
    assert pack.training.run.keep_checkpoints == 2
    assert pack.cascades == plain.cascades
    assert pack.bars.meters[3] == plain.bars.meters[3]
    assert load_pack(PACK) == plain  # the files are untouched


def test_a_key_the_file_does_not_write_yet_is_added_with_its_default_overridden(tmp_path):
    folder = tmp_path / "pack"
    shutil.copytree(pack_dir(PACK), folder)
    training = folder / "training.yaml"
    text = training.read_text(encoding="utf-8")
    training.write_text(text.replace("recording:\n  enabled: false\n  periodic_every: 100\n", ""))
    assert "recording:" not in training.read_text(encoding="utf-8")
    overrides = parse_overrides(["recording.periodic_every=7", "environment.vision_range=3"])
    pack = load_pack(folder, overrides=overrides)
    assert pack.training.recording.periodic_every == 7
    assert pack.training.environment.vision_range == 3


def _file_diagnostic(tmp_path, file: str, path: list, value) -> object:
    """The diagnostic of ``value`` written at ``path`` of ``file`` in a copy of the pack."""
    folder = tmp_path / "written"
    shutil.copytree(pack_dir(PACK), folder)
    data = load_yaml(folder / f"{file}.yaml").data
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    (folder / f"{file}.yaml").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_pack(folder)
    return info.value.errors[0]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("exploration.epsilon.decay=2", "E113"),
        ("environment.grid_size='8'", "E112"),
        ("environment.observability=partly", "E114"),
        ("run.seed=-1", "E113"),
        ("environment.action_costs.move.Energy=0.1", "E114"),
        ("bars.meters[0].initial=[1]", "E112"),
        ("curriculum.stages=[]", "E113"),
        ("exploration.rnd.hidden=[1, 0]", "E113"),
        ("exploration.epsilon={start: 1.0, decay: 0.9, min: 0.01, mni: 2}", "E110"),
    ],
)
def test_a_bad_value_gets_the_schemas_own_message_at_the_override(tmp_path, text, code):
    override = parse_override(text, index=1)
    with pytest.raises(SpecError) as info:
        load_pack(PACK, overrides=[parse_override("learning.gamma=0.9"), override])
    diagnostic = info.value.errors[0]
    assert (diagnostic.code, diagnostic.file, diagnostic.line) == (code, COMMAND_LINE, 2)
    in_file = _file_diagnostic(tmp_path, override.file, list(override.path), override.value)
    assert (diagnostic.message, diagnostic.hint, diagnostic.path) == (
        in_file.message,
        in_file.hint,
        in_file.path,
    )
    assert len(FLAG) < diagnostic.column <= len(FLAG) + len(text)


def test_a_list_index_past_the_end_is_an_error_at_the_index():
    with pytest.raises(SpecError) as info:
        load_pack(PACK, overrides=parse_overrides(["bars.meters[8].initial=0.5"]))
    assert info.value.code == "E113"
    assert info.value.errors[0].message == "[8] is past the end of 'meters', which has 8 entries"
    assert info.value.column == column_of("bars.meters[8].initial=0.5", "[8]")
    assert info.value.hint.startswith("use an index from 0 to 7")


def test_an_index_or_key_into_a_single_value_is_a_type_error():
    with pytest.raises(SpecError) as info:
        load_pack(PACK, overrides=parse_overrides(["environment.enabled_affordances[0]=Bed"]))
    assert info.value.code == "E112"
    assert 'is the string "all", not a list' in info.value.errors[0].message


def test_a_cross_file_check_points_at_the_override_that_breaks_it():
    text = "environment.action_costs.wait={energy: 0.5}"
    with pytest.raises(SpecError) as info:
        load_pack(PACK, overrides=parse_overrides(["run.seed=1", text]))
    assert info.value.code == "E140"
    assert (info.value.file, info.value.line) == (COMMAND_LINE, 2)


def test_an_overridden_value_never_points_at_the_line_it_replaced():
    # the file's own stages list had five entries at their lines; the new one has one
    text = "curriculum.stages=[{name: x, depletion_multiplier: -1}]"
    with pytest.raises(SpecError) as info:
        load_pack(PACK, overrides=parse_overrides([text]))
    assert {(d.file, d.line) for d in info.value.errors} == {(COMMAND_LINE, 1)}


@pytest.mark.parametrize(
    "module",
    [
        "hamlet.schemas.override",
        "hamlet.schemas.override_keys",
        "hamlet.schemas.override_syntax",
        "hamlet.schemas.override_text",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_a_value_nests_at_most_max_depth_levels():
    parse_override("learning.gamma=" + "[" * MAX_DEPTH + "]" * MAX_DEPTH)
    with pytest.raises(SpecError):
        parse_override("learning.gamma=" + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


@pytest.mark.parametrize("pack", PACK_NAMES)
def test_every_key_a_shipped_pack_writes_can_be_set(pack):
    for file in FILES:
        source = pack_dir(pack) / f"{file}.yaml"
        stack = [((), load_yaml(source).data)]
        while stack:
            path, value = stack.pop()
            if path and path not in {("version",), ("extends",)}:
                override = parse_override(f"{file}.{format_path(path)}={json.dumps(value)}")
                assert (override.file, override.path, override.value) == (file, path, value)
            if isinstance(value, dict):
                stack.extend(((*path, k), v) for k, v in value.items())
            elif isinstance(value, list):
                stack.extend(((*path, i), v) for i, v in enumerate(value))


def test_an_entry_of_a_fixed_length_list_can_be_set():
    pack = load_pack(PACK, overrides=parse_overrides(["affordances[0].hours[1]=20"]))
    assert tuple(pack.affordances.affordances[0].hours) == (0, 20)


def test_epsilon_takes_a_budget_fraction_or_a_decay_not_both():
    both = ["exploration.epsilon.decay=0.99", "exploration.epsilon.fraction=0.5"]
    with pytest.raises(SpecError) as info:
        load_pack(PACK, overrides=parse_overrides(both))
    assert info.value.code == "E140"
    assert "two different schedules" in str(info.value) and "null" in info.value.hint
    one = ["exploration.epsilon.decay=null", "exploration.epsilon.fraction=0.5"]
    epsilon = load_pack(PACK, overrides=parse_overrides(one)).training.exploration.epsilon
    assert (epsilon.fraction, epsilon.per_episode_decay) == (0.5, None)

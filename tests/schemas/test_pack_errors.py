"""A config pack with one mistake fails with a diagnostic that names the place and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hamlet.configs import pack_dir
from hamlet.schemas import SpecError, load_pack
from hamlet.schemas.errors import Diagnostic, render


def copied_pack(tmp_path: Path, pack: str = "L1_full_observability") -> Path:
    directory = tmp_path / pack
    shutil.copytree(pack_dir(pack), directory)
    return directory


def edited_pack(
    tmp_path: Path, file: str, old: str, new: str, pack: str = "L1_full_observability"
) -> Path:
    """A copy of a shipped pack with ``old`` replaced by ``new`` (once) in ``file``."""
    directory = copied_pack(tmp_path, pack)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return directory


def line_of(directory: Path, file: str, needle: str) -> int:
    lines = (directory / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def only_error(directory: Path) -> Diagnostic:
    with pytest.raises(SpecError) as info:
        load_pack(directory)
    assert len(info.value.errors) == 1, str(info.value)
    return info.value.errors[0]


def assert_at(error: Diagnostic, code: str, file: str, line: int) -> None:
    assert (error.code, Path(error.file).name, error.line) == (code, file, line), str(error)


def test_unknown_key_suggests_the_intended_one(tmp_path: Path) -> None:
    pack = edited_pack(
        tmp_path, "training.yaml", "  max_steps_per_episode:", "  max_step_per_episode:"
    )
    error = only_error(pack)
    assert_at(
        error, "E110", "training.yaml", line_of(pack, "training.yaml", "max_step_per_episode")
    )
    assert error.path == "environment.max_step_per_episode"
    assert "did you mean 'max_steps_per_episode'?" in error.hint


def test_missing_key_says_what_to_add(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "training.yaml", "  max_episodes: 5000\n", "")
    error = only_error(pack)
    assert_at(error, "E111", "training.yaml", line_of(pack, "training.yaml", "run:"))
    assert "missing required key 'max_episodes'" in error.message
    assert error.hint == "add `max_episodes: 500`"


def test_wrong_type_says_what_to_write(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "training.yaml", "  grid_size: 8", "  grid_size: eight")
    error = only_error(pack)
    assert_at(error, "E112", "training.yaml", line_of(pack, "training.yaml", "grid_size: eight"))
    assert "expected an integer" in error.message
    assert "number of cells on each side of the square grid" in error.hint.lower()


@pytest.mark.parametrize(
    ("written", "quoted"),
    [
        ("三", '"三"'),  # as written, not as its escape "\\u4e09"
        ('"a\\u202eb"', '"a\\u202eb"'),  # a right-to-left mark would reorder the line: escaped
    ],
)
def test_a_wrong_value_is_quoted_as_written(tmp_path: Path, written: str, quoted: str) -> None:
    pack = edited_pack(tmp_path, "training.yaml", "  grid_size: 8", f"  grid_size: {written}")
    error = only_error(pack)
    assert error.message == f"expected an integer, found string {quoted}"


def test_out_of_range_value_gives_the_bound(tmp_path: Path) -> None:
    old = "      required_ticks: 6"
    pack = edited_pack(tmp_path, "affordances.yaml", old, "      required_ticks: 0")
    error = only_error(pack)
    assert_at(
        error, "E113", "affordances.yaml", line_of(pack, "affordances.yaml", "required_ticks: 0")
    )
    assert error.path == "affordances[1].multi_tick.required_ticks"
    assert error.hint == "use a value >= 1"


def test_bad_enum_value_suggests_the_intended_one(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "training.yaml", "  observability: full", "  observability: ful")
    error = only_error(pack)
    assert_at(error, "E114", "training.yaml", line_of(pack, "training.yaml", "observability: ful"))
    assert error.hint == "did you mean 'full'?"


def test_effect_on_an_unknown_meter_points_at_it(tmp_path: Path) -> None:
    old = "effects: {hygiene: 0.40}"
    pack = edited_pack(tmp_path, "affordances.yaml", old, "effects: {hygeine: 0.40}")
    error = only_error(pack)
    line = line_of(pack, "affordances.yaml", "hygeine")
    assert_at(error, "E140", "affordances.yaml", line)
    assert error.column == line_of_column(pack, "affordances.yaml", line, "hygeine")
    assert error.path == "affordances[2].instant.effects.hygeine"
    assert "did you mean 'hygiene'?" in error.hint


def line_of_column(directory: Path, file: str, line: int, needle: str) -> int:
    text = (directory / file).read_text(encoding="utf-8").splitlines()[line - 1]
    return text.index(needle) + 1


def test_cascade_on_an_unknown_meter_is_reported(tmp_path: Path) -> None:
    old = "source: social, target: mood"
    pack = edited_pack(tmp_path, "cascades.yaml", old, "source: social, target: moood")
    error = only_error(pack)
    assert_at(error, "E140", "cascades.yaml", line_of(pack, "cascades.yaml", "moood"))
    assert error.path == "cascades[6].target"
    assert "did you mean 'mood'?" in error.hint


def test_unknown_enabled_affordance_suggests_the_intended_one(tmp_path: Path) -> None:
    old = "  enabled_affordances: [Bed, HomeMeal, Hospital, Job]"
    new = "  enabled_affordances: [Bed, HomeMeal, Hospitl, Job]"
    pack = edited_pack(tmp_path, "training.yaml", old, new, pack="L0_5_dual_resource")
    error = only_error(pack)
    assert_at(error, "E140", "training.yaml", line_of(pack, "training.yaml", "Hospitl"))
    assert error.path == "environment.enabled_affordances[2]"
    assert "did you mean 'Hospital'?" in error.hint


def test_wait_must_cost_less_energy_than_a_move(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "training.yaml", "wait: {energy: 0.001}", "wait: {energy: 0.005}")
    error = only_error(pack)
    assert_at(error, "E140", "training.yaml", line_of(pack, "training.yaml", "wait: {energy"))
    assert error.path == "environment.action_costs.wait.energy"
    assert "smaller than action_costs.move.energy" in error.hint


def test_more_affordances_than_free_cells_is_an_error(tmp_path: Path) -> None:
    old = "  enabled_affordances: [Bed]"
    pack = edited_pack(
        tmp_path, "training.yaml", old, "  enabled_affordances: all", pack="L0_0_minimal"
    )
    error = only_error(pack)
    assert_at(
        error, "E140", "training.yaml", line_of(pack, "training.yaml", "enabled_affordances: all")
    )
    assert "enable at most 8 affordances" in error.hint


def test_vision_range_wider_than_the_grid_is_an_error(tmp_path: Path) -> None:
    old = "  vision_range: 2 "
    pack = edited_pack(
        tmp_path, "training.yaml", old, "  vision_range: 8 ", pack="L2_partial_observability"
    )
    error = only_error(pack)
    assert_at(error, "E140", "training.yaml", line_of(pack, "training.yaml", "vision_range: 8"))
    assert error.hint == "use a vision_range of at most 7"


def test_hours_must_close_after_opening(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "affordances.yaml", "hours: [8, 22]", "hours: [22, 8]")
    error = only_error(pack)
    assert_at(error, "E140", "affordances.yaml", line_of(pack, "affordances.yaml", "[22, 8]"))
    assert "open < close <= open + 24" in error.hint


def test_retreat_threshold_must_be_below_advance(tmp_path: Path) -> None:
    old = "  retreat_survival: 0.3"
    pack = edited_pack(tmp_path, "training.yaml", old, "  retreat_survival: 0.7")
    error = only_error(pack)
    assert_at(error, "E140", "training.yaml", line_of(pack, "training.yaml", "retreat_survival"))
    assert "smaller than advance_survival" in error.hint


def test_meter_index_must_equal_its_list_position(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "bars.yaml", "    index: 3\n", "    index: 5\n")
    with pytest.raises(SpecError) as info:
        load_pack(pack)
    error = info.value.errors[0]
    assert_at(error, "E140", "bars.yaml", line_of(pack, "bars.yaml", "index: 5"))
    assert error.hint.startswith("write `index: 3`")


def test_temporal_pack_needs_multi_tick_behaviour(tmp_path: Path) -> None:
    pack = copied_pack(tmp_path, "L3_temporal_mechanics")
    text = (pack / "affordances.yaml").read_text(encoding="utf-8")
    start = text.index("  - name: Shower")
    section = text.index("    multi_tick:", start)
    end = text.index("\n\n", section)
    (pack / "affordances.yaml").write_text(text[:section] + text[end + 1 :], encoding="utf-8")
    error = only_error(pack)
    assert_at(error, "E140", "affordances.yaml", line_of(pack, "affordances.yaml", "name: Shower"))
    assert "add `multi_tick:` to Shower" in error.hint


def test_duplicate_key_is_a_yaml_error(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "bars.yaml", "    index: 1\n", "    index: 1\n    index: 1\n")
    error = only_error(pack)
    assert_at(error, "E101", "bars.yaml", line_of(pack, "bars.yaml", "index: 1") + 1)
    assert "duplicate key 'index'" in error.message
    assert "remove one of the two" in error.hint


def test_yaml_syntax_error_is_placed(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "cascades.yaml", "category_order: [", "category_order: [[")
    error = only_error(pack)
    assert error.code == "E100" and Path(error.file).name == "cascades.yaml"
    assert error.line is not None and error.line >= line_of(pack, "cascades.yaml", "category_order")
    assert "fix the YAML syntax" in error.hint


@pytest.mark.parametrize(
    ("last", "caret", "said"),
    [
        ("extra: [1, 2", "       ^^^^^", "which the file ends without closing"),
        ('extra: "open', "       ^^^^^", "which the file ends without closing"),
        ("extra: [", "        ^", "at the end of the file"),
    ],
)
def test_a_yaml_error_at_the_end_of_a_file_shows_where(tmp_path, last, caret, said) -> None:
    # The parser stops past the last line, where there is nothing to show: the error
    # once came with no snippet. It points at what was left open, or the last line.
    pack = copied_pack(tmp_path)
    path = pack / "training.yaml"
    path.write_text(path.read_text(encoding="utf-8") + last + "\n\n", encoding="utf-8")
    error = only_error(pack)
    assert (error.code, error.line) == ("E100", line_of(pack, "training.yaml", last))
    assert said in error.message
    shown = render(error, color=False).splitlines()
    assert shown[-3].endswith(f"{error.line} | {last}") and shown[-2].endswith(f" | {caret}")


def test_missing_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    pack = copied_pack(tmp_path)
    (pack / "cascades.yaml").unlink()
    error = only_error(pack)
    assert (error.code, Path(error.file).name) == ("E103", "cascades.yaml")
    assert "add cascades.yaml" in error.hint


def test_missing_pack_directory_is_reported(tmp_path: Path) -> None:
    error = only_error(tmp_path / "no_such_pack")
    assert error.code == "E103"
    assert "configs/L1_full_observability" in error.hint


def test_problems_in_several_files_are_reported_together(tmp_path: Path) -> None:
    pack = edited_pack(tmp_path, "bars.yaml", "tier: pivotal", "tier: pivot")
    training = pack / "training.yaml"
    training.write_text(training.read_text().replace("  grid_size: 8", "  grid_size: 1"))
    with pytest.raises(SpecError) as info:
        load_pack(pack)
    found = {(e.code, Path(e.file).name) for e in info.value.errors}
    assert found == {("E114", "bars.yaml"), ("E113", "training.yaml")}


def test_a_misspelled_pack_name_gets_a_suggestion_and_the_list() -> None:
    with pytest.raises(SpecError) as caught:
        load_pack("L1_full_observabilty")
    error = caught.value
    assert error.code == "E103"
    assert error.hint.startswith("did you mean 'L1_full_observability'?")
    assert "L0_0_minimal" in error.hint and "L3_temporal_mechanics" in error.hint

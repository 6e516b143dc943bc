"""A config pack is refused, with its place, when a number is not finite, a size has no
sane bound, or text holds characters no file should: before a run allocates anything."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from hamlet.configs import pack_dir
from hamlet.schemas import SpecError, load_pack

from ..conftest import integer_subschemas
from .test_pack_errors import edited_pack, line_of


def refusal(pack: Path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_pack(pack)
    return info.value


# (file, text in L1, replacement, code, YAML path)
BAD_NUMBERS = {
    "bars initial nan": (
        "bars.yaml",
        "    initial: 1.0\n    base_depletion: 0.005",
        "    initial: .nan\n    base_depletion: 0.005",
        "E114",
        "meters[0].initial",
    ),
    "bars depletion inf": (
        "bars.yaml",
        "base_depletion: 0.005",
        "base_depletion: .inf",
        "E114",
        "meters[0].base_depletion",
    ),
    "cascade strength nan": (
        "cascades.yaml",
        "threshold: 0.3, strength: 0.004}",
        "threshold: 0.3, strength: .nan}",
        "E114",
        "cascades[0].strength",
    ),
    "affordance effect -inf": (
        "affordances.yaml",
        "effects: {energy: 0.50, health: 0.02}",
        "effects: {energy: -.inf, health: 0.02}",
        "E114",
        "affordances[0].instant.effects.energy",
    ),
    "epsilon fraction nan": (
        "training.yaml",
        "fraction: 0.25, min: 0.01}",
        "fraction: .NaN, min: 0.01}",
        "E114",
        "exploration.epsilon.fraction",
    ),
    "stage multiplier inf": (
        "training.yaml",
        "depletion_multiplier: 0.2,",
        "depletion_multiplier: .inf,",
        "E114",
        "curriculum.stages[0].depletion_multiplier",
    ),
    "rnd embed_dim 1e9": (
        "training.yaml",
        "embed_dim: 128",
        "embed_dim: 1e9",
        "E113",
        "exploration.rnd.embed_dim",
    ),
    "rnd hidden 1e9": (
        "training.yaml",
        "hidden: [256, 128]",
        "hidden: [1000000000, 128]",
        "E113",
        "exploration.rnd.hidden[0]",
    ),
    "seed 1e23": ("training.yaml", "  seed: 0", "  seed: 1e23", "E113", "run.seed"),
    "seed 2**63": (
        "training.yaml",
        "  seed: 0",
        "  seed: 9223372036854775808",
        "E113",
        "run.seed",
    ),
    "episodes 2**70": (
        "training.yaml",
        "max_episodes: 5000",
        "max_episodes: 1180591620717411303424",
        "E113",
        "run.max_episodes",
    ),
    "episode length 1e9": (
        "training.yaml",
        "max_steps_per_episode: 500",
        "max_steps_per_episode: 1000000000",
        "E113",
        "environment.max_steps_per_episode",
    ),
    "stage description with an escape": (
        "training.yaml",
        'description: "Meters drain at a fifth',
        'description: "\\e[2JMeters drain at a fifth',
        "E114",
        "curriculum.stages[0].description",
    ),
    "meter description with a bell": (
        "bars.yaml",
        'description: "Rest.',
        'description: "\\aRest.',
        "E114",
        "meters[0].description",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_NUMBERS))
def test_a_bad_value_is_refused_with_its_code_and_place(case, tmp_path):
    file, old, new, code, path = BAD_NUMBERS[case]
    pack = edited_pack(tmp_path, file, old, new)
    error = refusal(pack)
    assert [(d.code, d.path) for d in error.errors] == [(code, path)], str(error)
    assert Path(error.file).name == file
    assert error.line == line_of(pack, file, new.strip().split("\n")[0])


def test_a_nan_says_what_to_write_instead(tmp_path):
    error = refusal(edited_pack(tmp_path, "cascades.yaml", "strength: 0.004}", "strength: .nan}"))
    assert error.errors[0].message == ".nan is not a finite number"
    assert "finite number" in error.hint


def test_the_largest_seed_a_64_bit_integer_holds_is_accepted(tmp_path):
    pack = edited_pack(tmp_path, "training.yaml", "  seed: 0", "  seed: 9223372036854775807")
    assert load_pack(pack).training.run.seed == 2**63 - 1


def test_a_control_character_in_a_key_is_refused(tmp_path):
    pack = edited_pack(tmp_path, "bars.yaml", "  - name: energy", '  - "name\\0": energy')
    error = refusal(pack)
    assert error.code == "E114"
    assert error.path == 'meters[0]["name\\u0000"]'
    assert "U+0000" in error.errors[0].message


def test_a_pack_with_too_many_affordances_is_refused(tmp_path):
    pack = edited_pack(tmp_path, "affordances.yaml", "affordances:\n", "affordances:\n")
    text = (pack / "affordances.yaml").read_text(encoding="utf-8")
    extra = "".join(f"  - {{name: Extra{i}}}\n" for i in range(260))
    (pack / "affordances.yaml").write_text(text + extra, encoding="utf-8")
    error = refusal(pack)
    assert (error.code, error.path) == ("E113", "affordances")


# --- every integer of every pack schema has a maximum -----------------------------------


def _schema(name: str) -> dict[str, Any]:
    text = resources.files("hamlet.schemas").joinpath(f"{name}.schema.json").read_text()
    return json.loads(text)


@pytest.mark.parametrize("name", ["bars", "affordances", "cascades", "training"])
def test_every_integer_of_a_pack_schema_has_a_maximum(name):
    unbounded = [
        path for path, schema in integer_subschemas(_schema(name)) if "maximum" not in schema
    ]
    # initial_stage is bounded by the number of stages (E140), checked when the pack loads
    assert unbounded in ([], ["/$defs/curriculum/properties/initial_stage"]), unbounded


def test_every_shipped_pack_is_within_the_limits():
    for name in ("L0_0_minimal", "L1_full_observability", "L3_temporal_mechanics"):
        assert load_pack(pack_dir(name)).name == name


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from hamlet.schemas import load_yaml

    huge = tmp_path / "bars.yaml"
    with huge.open("wb") as handle:
        handle.truncate(64 * 2**20)  # sparse: no disk used
    with pytest.raises(SpecError) as caught:
        load_yaml(huge)
    assert caught.value.code == "E103" and "too large" in caught.value.errors[0].message


def test_a_symlink_loop_is_a_coded_error(tmp_path: Path) -> None:
    from hamlet.schemas import load_yaml

    loop = tmp_path / "brain.yaml"
    loop.symlink_to(loop)
    with pytest.raises(SpecError) as caught:
        load_yaml(loop)
    assert caught.value.code == "E103"

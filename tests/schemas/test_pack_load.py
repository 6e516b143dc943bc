"""The shipped config packs load, carry the reference's numbers and give the right layouts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import ACTION_NAMES, Pack, load_pack, observation_layout
from hamlet.schemas.pack import PACK_FILES

VOCABULARY = (
    "Bed", "LuxuryBed", "Shower", "HomeMeal", "FastFood", "Doctor", "Hospital",
    "Therapist", "Recreation", "Bar", "Job", "Labor", "Gym", "Park",
)  # fmt: skip
METERS = ("energy", "hygiene", "satiation", "money", "mood", "social", "health", "fitness")


@pytest.fixture(scope="module")
def packs() -> dict[str, Pack]:
    return {name: load_pack(pack_dir(name)) for name in PACK_NAMES}


def per_level(packs: dict[str, Pack], value) -> list:
    return [value(packs[name]) for name in PACK_NAMES]


def test_every_shipped_pack_loads_with_its_directory_name(packs: dict[str, Pack]) -> None:
    assert [p.name for p in packs.values()] == list(PACK_NAMES)


def test_observation_dimensions_match_the_reference(packs: dict[str, Pack]) -> None:
    layouts = [observation_layout(packs[name]) for name in PACK_NAMES]
    assert [layout.obs_dim for layout in layouts] == [36, 76, 91, 54, 54]
    assert all(layout.action_names == ACTION_NAMES for layout in layouts)
    assert all(layout.num_actions == 6 for layout in layouts)


def test_full_observability_layout_fields(packs: dict[str, Pack]) -> None:
    layout = observation_layout(packs["L1_full_observability"])
    fields = [(f.name, f.shape, f.offset) for f in layout.fields]
    assert fields == [
        ("grid", (8, 8), 0),
        ("meters", (8,), 64),
        ("affordance", (15,), 72),
        ("temporal", (4,), 87),
    ]


def test_partial_observability_layout_fields(packs: dict[str, Pack]) -> None:
    layout = observation_layout(packs["L3_temporal_mechanics"])
    fields = [(f.name, f.shape, f.offset) for f in layout.fields]
    assert fields == [
        ("grid", (5, 5), 0),
        ("position", (2,), 25),
        ("meters", (8,), 27),
        ("affordance", (15,), 35),
        ("temporal", (4,), 50),
    ]


def test_levels_differ_as_in_the_reference_table(packs: dict[str, Pack]) -> None:
    env = lambda p: p.training.environment  # noqa: E731
    assert per_level(packs, lambda p: env(p).grid_size) == [3, 7, 8, 8, 8]
    assert per_level(packs, lambda p: env(p).observability) == ["full"] * 3 + ["partial"] * 2
    assert per_level(packs, lambda p: env(p).temporal_mechanics) == [False] * 4 + [True]
    assert per_level(packs, lambda p: env(p).max_steps_per_episode) == [1000, 500, 500, 500, 500]
    assert per_level(packs, lambda p: env(p).agent_lifespan) == [1000] * 5
    assert per_level(packs, lambda p: len(p.deployed_affordances)) == [1, 4, 14, 14, 14]
    assert [a.name for a in packs["L0_5_dual_resource"].deployed_affordances] == [
        "Bed", "HomeMeal", "Hospital", "Job",
    ]  # fmt: skip
    assert env(packs["L2_partial_observability"]).vision_range == 2


def test_money_starts_differently_per_level(packs: dict[str, Pack]) -> None:
    money = lambda p: next(m.initial for m in p.bars.meters if m.name == "money")  # noqa: E731
    assert per_level(packs, money) == [0.25, 1.0, 0.5, 0.5, 0.5]


def test_action_costs_per_level(packs: dict[str, Pack]) -> None:
    costs = lambda p: p.training.environment.action_costs  # noqa: E731
    assert per_level(packs, lambda p: costs(p).wait) == [
        {"energy": e} for e in (0.003, 0.0049, 0.001, 0.001, 0.001)
    ]
    assert per_level(packs, lambda p: costs(p).interact["energy"]) == [0.0029, 0.0029, 0, 0, 0]
    # Correction 5: the hygiene and satiation cost of a move are config values.
    assert (
        per_level(packs, lambda p: costs(p).move)
        == [{"energy": 0.005, "hygiene": 0.003, "satiation": 0.004}] * 5
    )


def test_meters_are_the_eight_of_the_reference_in_tensor_order(packs: dict[str, Pack]) -> None:
    for pack in packs.values():
        assert pack.meter_names == METERS
        depletion = {m.name: m.base_depletion for m in pack.bars.meters}
        assert depletion == {
            "energy": 0.005, "hygiene": 0.003, "satiation": 0.004, "money": 0.0,
            "mood": 0.001, "social": 0.006, "health": 0.0, "fitness": 0.002,
        }  # fmt: skip
        assert [(t.meter, t.op, t.value) for t in pack.bars.terminal] == [
            ("health", "<=", 0.0),
            ("energy", "<=", 0.0),
        ]


def test_affordance_vocabulary_is_identical_in_every_pack(packs: dict[str, Pack]) -> None:
    for pack in packs.values():
        assert pack.affordance_names == VOCABULARY
    texts = {(pack_dir(name) / "affordances.yaml").read_text() for name in PACK_NAMES}
    assert len(texts) == 1


def test_affordance_numbers_match_the_reference(packs: dict[str, Pack]) -> None:
    by_name = {a.name: a for a in packs["L1_full_observability"].affordances.affordances}
    bar, job = by_name["Bar"], by_name["Job"]
    assert bar.hours == (18, 28)
    assert [h for h in range(24) if bar.is_open(h)] == [0, 1, 2, 3, 18, 19, 20, 21, 22, 23]
    assert job.instant is not None and job.instant.effects["money"] == 0.225
    assert job.instant.costs == {}
    assert [h for h in range(24) if job.is_open(h)] == list(range(8, 18))
    assert by_name["LuxuryBed"].multi_tick.required_ticks == 6
    assert by_name["Bed"].instant.costs == {"money": 0.05}
    assert by_name["Bed"].multi_tick.completion_bonus == {"energy": 0.125, "health": 0.02}
    assert {n: a.hours for n, a in by_name.items() if a.hours != (0, 24)} == {
        "Doctor": (8, 18), "Therapist": (8, 18), "Recreation": (8, 22), "Bar": (18, 28),
        "Job": (8, 18), "Labor": (8, 18), "Gym": (6, 22), "Park": (6, 22),
    }  # fmt: skip


def _instant_total(affordance) -> dict[str, float]:
    total = dict(affordance.instant.effects)
    for meter, cost in affordance.instant.costs.items():
        total[meter] = total.get(meter, 0.0) - cost
    return total


def _multi_tick_total(affordance) -> dict[str, float]:
    spec = affordance.multi_tick
    total: dict[str, float] = {}
    for meter, change in spec.effects_per_tick.items():
        total[meter] = total.get(meter, 0.0) + spec.required_ticks * change
    for meter, cost in spec.costs_per_tick.items():
        total[meter] = total.get(meter, 0.0) - spec.required_ticks * cost
    for meter, change in spec.completion_bonus.items():
        total[meter] = total.get(meter, 0.0) + change
    return total


def test_multi_tick_uses_add_up_to_the_instant_ones(packs: dict[str, Pack]) -> None:
    """Catches transcription slips: a whole multi-tick use is the instant use spread out.

    Job and Labor are the exceptions the reference has (townlet-facts §6.19).
    """
    for affordance in packs["L3_temporal_mechanics"].affordances.affordances:
        instant, spread = _instant_total(affordance), _multi_tick_total(affordance)
        if affordance.name == "Job":
            assert spread["money"] == pytest.approx(0.28125)
            spread["money"] = instant["money"]
        if affordance.name == "Labor":
            assert spread["money"] == pytest.approx(0.375)
            spread["money"] = instant["money"]
        assert spread.keys() == instant.keys(), affordance.name
        for meter in instant:
            assert spread[meter] == pytest.approx(instant[meter], abs=1e-3), affordance.name


def test_cascades_are_the_ten_of_the_reference_in_category_order(packs: dict[str, Pack]) -> None:
    cascades = packs["L1_full_observability"].cascades
    ordered = cascades.in_application_order()
    assert len(ordered) == 10
    assert [c.category for c in ordered] == (
        ["primary_to_pivotal"] * 3
        + ["secondary_to_primary"] * 4
        + ["secondary_to_pivotal_weak"] * 3
    )
    assert [c.name for c in ordered[:3]] == [
        "satiation_to_health", "satiation_to_energy", "mood_to_energy",
    ]  # fmt: skip
    assert {c.threshold for c in ordered} == {0.3}
    assert [c.strength for c in ordered] == [
        0.004, 0.005, 0.005, 0.002, 0.002, 0.003, 0.004, 0.0005, 0.0005, 0.0008,
    ]  # fmt: skip
    (modulation,) = cascades.modulations
    assert (modulation.source, modulation.target) == ("fitness", "health")
    assert (modulation.base_multiplier, modulation.range, modulation.baseline_depletion) == (
        0.5, 2.5, 0.001,
    )  # fmt: skip


def test_curriculum_and_exploration_per_level(packs: dict[str, Pack]) -> None:
    training = lambda p: p.training  # noqa: E731
    curriculum = lambda p: training(p).curriculum  # noqa: E731
    assert per_level(packs, lambda p: curriculum(p).advance_survival) == [0.25, 0.5, 0.7, 0.7, 0.7]
    assert per_level(packs, lambda p: curriculum(p).retreat_survival) == [0.1, 0.2, 0.3, 0.3, 0.3]
    assert per_level(packs, lambda p: curriculum(p).entropy_gate) == [0.3, 0.5, 0.5, 0.5, 0.5]
    for pack in packs.values():
        stages = [s.depletion_multiplier for s in curriculum(pack).stages]
        assert stages == [0.2, 0.5, 0.8, 1.0, 1.0]
        # A stage may only change after a full window of its own episodes.
        assert curriculum(pack).min_episodes_at_stage >= curriculum(pack).window
    exploration = lambda p: training(p).exploration  # noqa: E731
    # The reference decayed per episode (0.995 for L1, 0.999 intended for L2/L3), made
    # for one agent and hours of training; the packs follow the run's budget instead.
    assert per_level(packs, lambda p: exploration(p).epsilon.fraction) == [0.25] * 5
    assert all(exploration(p).epsilon.decay is None for p in packs.values())
    # L2 keeps exploring (docs/TRAINING.md, "Why L2 needs a floor").
    assert per_level(packs, lambda p: exploration(p).epsilon.min) == [0.01, 0.01, 0.01, 0.2, 0.01]
    # Excursions tied with one-step exploration over 12 L2 seeds: no pack ships them.
    assert per_level(packs, lambda p: exploration(p).epsilon.repeat) == [None] * 5
    assert per_level(packs, lambda p: training(p).run.agents) == [16] * 5
    assert per_level(packs, lambda p: exploration(p).rnd.embed_dim) == [64, 64, 128, 128, 128]
    # L1 trains its novelty predictor on every 8th batch (docs/TRAINING.md#exploration).
    assert per_level(packs, lambda p: exploration(p).rnd.train_every) == [1, 1, 8, 1, 1]
    intrinsic = lambda p: exploration(p).intrinsic  # noqa: E731
    assert per_level(packs, lambda p: intrinsic(p).initial_weight) == [0.1, 0.1, 1.0, 0.1, 1.0]
    assert per_level(packs, lambda p: intrinsic(p).survival_window) == [50, 50, 100, 100, 100]
    assert per_level(packs, lambda p: training(p).run.max_episodes) == [
        500, 500, 5000, 10000, 10000,
    ]  # fmt: skip
    assert per_level(packs, lambda p: training(p).recording.enabled) == [
        False, True, False, False, False,
    ]  # fmt: skip
    assert packs["L0_5_dual_resource"].training.recording.periodic_every == 50


@pytest.mark.parametrize("name", PACK_NAMES)
@pytest.mark.parametrize("kind", list(PACK_FILES))
def test_pack_files_name_their_schema_for_editors(name: str, kind: str) -> None:
    path = pack_dir(name) / f"{kind}.yaml"
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first == f"{prefix}../../schemas/{kind}.schema.json"
    assert (path.parent / first.removeprefix(prefix)).resolve().is_file()


def test_loading_packs_does_not_import_torch() -> None:
    code = (
        "import sys; from hamlet.schemas import load_pack; from hamlet.configs import pack_dir; "
        "load_pack(pack_dir('L3_temporal_mechanics')); print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path.cwd()
    )
    assert result.stdout.strip() == "False"

"""Demonstrators (``exploration.demonstrations``): the last agents act by the hand-written
heuristic, their steps go to the replay, their episodes count for nothing, they become
learners once the budget passes ``until``, and a resumed run goes on as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.trainer import Trainer
from hamlet.runtime.world import HeuristicPolicy
from hamlet.schemas import load_pack
from hamlet.schemas.errors import SpecError
from hamlet.schemas.override import parse_overrides

from ..conftest import tiny_pack
from .test_host_syncs import HostWaits


def _trainer(folder: Path, agents: int, demonstrations: str | None) -> Trainer:
    settings = [] if demonstrations is None else [f"exploration.demonstrations={demonstrations}"]
    pack = load_pack(folder, overrides=parse_overrides(settings))
    model = HamletModel.from_spec(folder / "brain.yaml", seed=0)
    return Trainer(pack, model, num_agents=agents, seed=0)


@pytest.fixture
def l2(tmp_path: Path) -> Path:
    return tiny_pack(tmp_path, "L2_partial_observability")


def test_the_last_agents_act_by_the_heuristic_and_the_others_as_without_them(l2):
    shown = _trainer(l2, 8, "{share: 0.25}")  # 2 of 8
    plain = _trainer(l2, 8, None)
    assert shown.demonstrators is not None
    assert shown.demonstrators.flags == [False] * 6 + [True] * 2
    heuristic = HeuristicPolicy(shown.world)
    replay = shown.learner.replay
    for step in range(30):
        expected, _ = heuristic(shown.obs, shown._mask, None)
        shown.step()
        slot = (replay.written - 1) % replay.size
        assert torch.equal(replay.actions[6:, slot], expected[6:]), step
    plain.step()
    # The learners' first step: the same draws as a run without demonstrators.
    assert torch.equal(replay.actions[:6, 0], plain.learner.replay.actions[:6, 0])
    assert not torch.equal(replay.actions[6:, 0], plain.learner.replay.actions[6:, 0])


def test_a_demonstration_is_no_episode_of_the_run(l2):
    trainer = _trainer(l2, 4, "{share: 0.5}")  # agents 2 and 3
    episodes = list(trainer.episodes(12))
    assert {episode.agent for episode in episodes} == {0, 1}
    assert trainer.episodes_done == 12 == trainer.curriculum.episodes_at_stage
    # ...while the demonstrators' episodes did end (the world counts every death).
    assert int(trainer.world.step_count[2:].max()) < trainer.env_steps


def test_demonstrators_learn_from_their_next_episode_once_the_budget_passes_until(l2):
    trainer = _trainer(l2, 4, "{share: 0.5, until: 0.1}")
    assert trainer.demonstrators is not None
    trainer.advance(0.2)
    assert trainer.demonstrators.flags == [False, False, True, True]  # mid-episode
    agents = set()
    for episode in trainer.episodes(30):
        agents.add(episode.agent)
    assert agents == {0, 1, 2, 3}
    assert trainer.demonstrators.flags == [False] * 4


def test_a_restored_trainer_goes_on_with_its_demonstrators(l2):
    def trainer() -> Trainer:
        return _trainer(l2, 4, "{share: 0.5, until: 0.1}")

    straight, first = trainer(), trainer()
    for run in (straight, first):
        run.advance(0.2)
        list(run.episodes(1))
    assert straight.demonstrators is not None
    # The demonstrators have become learners, which a restore must not undo.
    assert straight.demonstrators.flags == [False] * 4
    assert straight.demonstrators.members == [False, False, True, True]
    resumed = trainer()
    resumed.restore(first.checkpoint({}, {}))
    assert resumed.demonstrators is not None
    assert resumed.demonstrators.flags == straight.demonstrators.flags
    for _ in range(40):
        straight.step()
        resumed.step()
        assert torch.equal(straight.obs, resumed.obs)


def test_a_step_with_demonstrators_waits_for_the_device_once(l2):
    trainer = _trainer(l2, 4, "{share: 0.5}")
    while not trainer.learner.ready:
        trainer.step()
    quiet = 0
    for _ in range(60):
        watch = HostWaits()
        with watch:
            ended = trainer.step()
        if not ended:
            assert watch.calls == {"aten._local_scalar_dense.default": 1}, watch.calls
            quiet += 1
    assert quiet >= 12


@pytest.mark.parametrize(
    "value, where",
    [("{share: 0.6}", "share"), ("{share: 0}", "share"), ("{until: 0.5}", "share"),
     ("{share: 0.25, until: 0}", "until"), ("{share: 0.25, by: heuristic}", "by")],
)  # fmt: skip
def test_a_bad_demonstrations_setting_is_a_coded_error_at_its_key(l2, value, where):
    with pytest.raises(SpecError) as info:
        load_pack(l2, overrides=parse_overrides([f"exploration.demonstrations={value}"]))
    assert info.value.code.startswith("E1")
    assert "demonstrations" in str(info.value.path)
    assert where in str(info.value.path) or where in info.value.errors[0].message

"""The training loop keeps its promises: memory through episodes, resets only where
episodes end, transitions stored with the state they were acted from."""

from __future__ import annotations

import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.exploration import policy_entropy
from hamlet.runtime.learning.trainer import Trainer
from hamlet.schemas import load_pack

from ..conftest import tiny_pack


def _trainer(tmp_path, source: str, agents: int) -> Trainer:
    pack = load_pack(tiny_pack(tmp_path, source))
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    return Trainer(pack, model, num_agents=agents, seed=0)


def test_recurrent_agents_keep_their_memory_until_their_own_episode_ends(tmp_path):
    trainer = _trainer(tmp_path, "L2_partial_observability", agents=2)
    trainer.world.step_count[1] = 30  # agent 1's episode will be cut off first
    for _ in range(9):
        trainer.step()
    h_before = trainer.hidden[0].clone()
    assert bool((h_before != 0).any(dim=-1).all())  # both agents remember something
    ended = []
    while not ended:
        stored_from = trainer.hidden[0].clone()
        ended = trainer.step()
    assert [e.agent for e in ended] == [1] and ended[0].outcome == "cut_off"
    h = trainer.hidden[0]
    assert torch.equal(h[:, 1], torch.zeros_like(h[:, 1]))  # a fresh episode, a fresh memory
    assert bool((h[:, 0] != 0).any())  # agent 0 goes on remembering
    # the last transition of each agent was stored with the state it acted from
    slot = (trainer.learner.replay.written - 1) % trainer.learner.replay.size
    stored = trainer.learner.replay.hidden[0][:, slot]
    torch.testing.assert_close(stored, stored_from.transpose(0, 1))


def test_every_transition_of_every_agent_is_stored(tmp_path):
    trainer = _trainer(tmp_path, "L1_full_observability", agents=3)
    for _ in range(5):
        trainer.step()
    assert len(trainer.learner.replay) == 15


def test_policy_entropy_is_scale_free_and_falls_with_epsilon():
    valid = torch.tensor([[True, True, True, True, True, False]]).sum(-1)
    values = [float(policy_entropy(e, valid)) for e in (1.0, 0.5, 0.1, 0.0)]
    assert values[0] == 1.0 and values == sorted(values, reverse=True) and values[-1] == 0.0


def test_affordance_transitions_count_each_interaction_that_follows_another(tmp_path):
    """The device-side counts agree with counting the step results by hand."""
    pack = load_pack(tiny_pack(tmp_path, "L0_5_dual_resource"))
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    trainer = Trainer(pack, model, num_agents=3, seed=0)
    names = trainer.world.vocabulary
    step = trainer.world.step
    last = [None] * 3
    expected: list[dict] = [{} for _ in range(3)]
    by_agent: dict[int, list[dict]] = {0: [], 1: [], 2: []}

    def counting_step(actions, multiplier):
        result = step(actions, multiplier)
        for agent, used in enumerate(result.interactions.tolist()):
            if used >= 0:
                if last[agent] is not None:
                    key = (names[last[agent]], names[used])
                    expected[agent][key] = expected[agent].get(key, 0) + 1
                last[agent] = used
        return result

    trainer.world.step = counting_step
    seen = 0
    while seen < 12:
        for episode in trainer.step():
            by_agent[episode.agent].append(episode.affordance_transitions)
            assert episode.affordance_transitions == expected[episode.agent]
            expected[episode.agent], last[episode.agent] = {}, None
            seen += 1
    assert any(t for episodes in by_agent.values() for t in episodes)  # something was counted


def test_an_advance_of_the_curriculum_lifts_epsilon(tmp_path):
    source = tiny_pack(
        tmp_path, window="2", min_episodes_at_stage="2", advance_survival="0.01",
        retreat_survival="0.0", entropy_gate="1.0",
    )  # fmt: skip
    training = source / "training.yaml"
    training.write_text(
        training.read_text().replace(
            "epsilon: {start: 1.0, fraction: 0.25, min: 0.01}",
            "epsilon: {start: 0.2, fraction: 0.25, min: 0.01, "
            "on_advance: {value: 0.9, fraction: 0.5}}",
        )
    )
    pack = load_pack(source)
    trainer = Trainer(pack, HamletModel.from_spec(source / "brain.yaml", seed=0), seed=0)
    before = trainer.epsilon.value
    moves = []
    while not moves:
        moves = [e for e in trainer.step() if e.transition is not None]
    assert moves[0].transition.reason == "advance" and before <= 0.2
    assert 0.85 < trainer.epsilon.value <= 0.9  # lifted, and only beginning to fall back

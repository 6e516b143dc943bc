"""Temporally extended exploration (``exploration.epsilon.repeat``): a random action is
kept for a zeta-distributed number of steps, ends at a wall or with the episode, and a
resumed run goes on with the excursions it was on."""

from __future__ import annotations

import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.exploration import Excursions
from hamlet.runtime.learning.trainer import Trainer
from hamlet.schemas import load_pack
from hamlet.schemas.override import parse_overrides
from hamlet.schemas.pack import Repeat

from ..conftest import tiny_pack

AGENTS, ACTIONS, GREEDY = 20_000, 6, 0


def _excursion_lengths(config: Repeat) -> torch.Tensor:
    """Each agent starts an excursion at step 0 (epsilon 1), then acts at epsilon 0: the
    steps it takes away from the greedy action are its excursion's length."""
    excursions = Excursions(config, AGENTS, torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    mask = torch.ones(AGENTS, ACTIONS, dtype=torch.bool)
    greedy = torch.full((AGENTS,), GREEDY)
    first = excursions.choose(greedy, mask, 1.0, generator)
    length = torch.ones(AGENTS, dtype=torch.long)
    unbroken = torch.ones(AGENTS, dtype=torch.bool)
    for _ in range(config.max + 2):
        actions = excursions.choose(greedy, mask, 0.0, generator)
        kept = actions == first
        assert bool((kept | (actions == GREEDY)).all())  # the same action, or greedy
        unbroken &= kept
        length += unbroken
    return length[first != GREEDY]  # (a random draw of the greedy action looks greedy)


def test_excursion_lengths_follow_the_zeta_distribution():
    config = Repeat(mu=2.0, max=10)
    lengths = _excursion_lengths(config)
    n = torch.arange(1, 11, dtype=torch.float64)
    expected = n.pow(-2.0) / n.pow(-2.0).sum()
    seen = torch.bincount(lengths, minlength=11)[1:].double() / len(lengths)
    torch.testing.assert_close(seen, expected, atol=0.012, rtol=0.0)
    assert int(lengths.max()) == 10  # the cap is reached, never passed


def test_an_excursion_ends_at_a_wall_and_with_the_episode():
    excursions = Excursions(Repeat(max=50), 3, torch.device("cpu"))
    generator = torch.Generator().manual_seed(3)
    mask = torch.ones(3, ACTIONS, dtype=torch.bool)
    greedy = torch.full((3,), GREEDY)
    mask[:, GREEDY] = False  # so no excursion draws the greedy action
    first = excursions.choose(greedy, mask, 1.0, generator)
    mask[:, GREEDY] = True
    excursions.left.fill_(5)  # each has 5 steps to go
    wall = mask.clone()
    wall[0, first[0]] = False  # agent 0's action is no longer valid
    excursions.forget(torch.tensor([False, True, False]))  # agent 1's episode ended
    actions = excursions.choose(greedy, wall, 0.0, generator)
    assert actions.tolist() == [GREEDY, GREEDY, int(first[2])]
    assert excursions.left[:2].tolist() == [0, 0]


def test_no_valid_action_is_no_action():
    excursions = Excursions(Repeat(), 2, torch.device("cpu"))
    mask = torch.tensor([[False] * ACTIONS, [True] * ACTIONS])
    actions = excursions.choose(torch.tensor([0, 1]), mask, 1.0, torch.Generator().manual_seed(0))
    assert actions[0] == -1 and 0 <= int(actions[1]) < ACTIONS


def test_a_restored_trainer_goes_on_with_its_excursions(tmp_path):
    source = tiny_pack(tmp_path)
    settings = ["exploration.epsilon.repeat={mu: 1.5, max: 8}", "exploration.epsilon.start=0.3"]
    pack = load_pack(source, overrides=parse_overrides(settings))

    def trainer() -> Trainer:
        model = HamletModel.from_spec(source / "brain.yaml", seed=0)
        return Trainer(pack, model, num_agents=3, seed=0)

    straight, first = trainer(), trainer()
    assert straight.excursions is not None
    for _ in range(200):  # until one is on an excursion, at the save
        straight.step()
        first.step()
        if bool((straight.excursions.left > 2).any()):
            break
    assert bool((straight.excursions.left > 2).any())
    resumed = trainer()
    resumed.restore(first.checkpoint({}, {}))
    for _ in range(40):
        straight.step()
        resumed.step()
        assert torch.equal(straight.excursions.action, resumed.excursions.action)
        assert torch.equal(straight.obs, resumed.obs)

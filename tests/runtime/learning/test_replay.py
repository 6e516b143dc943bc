"""The replay memory: per-agent streams, windows, priorities, and exact state."""

from __future__ import annotations

import torch

from hamlet.runtime.learning.replay import Replay


def _fill(replay: Replay, steps: int, agents: int = 2, start: int = 0) -> None:
    for t in range(start, start + steps):
        ids = torch.arange(agents)
        obs = torch.full((agents, 3), float(t)) + ids[:, None] * 1000
        replay.add(
            obs,
            torch.full((agents,), t % 6),
            torch.full((agents,), float(t)),
            obs + 1,
            torch.ones(agents, 6, dtype=torch.bool),
            torch.zeros(agents, dtype=torch.bool),
            torch.tensor([t % 5 == 4] * agents),
            None,
        )


def test_capacity_is_split_between_agents_and_old_steps_are_overwritten():
    replay = Replay(20, 2, obs_dim=3, num_actions=6)
    assert replay.size == 10
    _fill(replay, 25)
    assert len(replay) == 20
    batch = replay.sample(200, 1, torch.Generator().manual_seed(0))
    steps = batch.obs[:, 0, 0] % 1000
    assert steps.min() >= 15  # only the newest 10 steps of each agent remain
    assert len(replay) == 20 and replay.filled == 10


def test_windows_are_consecutive_steps_of_one_agent():
    replay = Replay(100, 2, obs_dim=3, num_actions=6)
    _fill(replay, 30)
    batch = replay.sample(64, 4, torch.Generator().manual_seed(1))
    agent = batch.agent
    steps = batch.obs[..., 0] - agent[:, None] * 1000
    present = batch.length
    assert torch.equal(
        (steps[:, 1:] - steps[:, :-1])[present[:, 1:]], torch.ones(int(present[:, 1:].sum()))
    )
    assert torch.equal(batch.next_obs[present], (batch.obs + 1)[present])
    # the window's first step is always a stored one; steps past the newest are absent
    assert bool(present[:, 0].all())
    past_newest = steps[:, :1] + torch.arange(4)[None, :] >= 30
    assert torch.equal(~present, past_newest)


def test_sampling_is_reproducible_and_uniform_over_stored_steps():
    replay = Replay(1000, 3, obs_dim=3, num_actions=6)
    _fill(replay, 50, agents=3)
    a = replay.sample(4000, 1, torch.Generator().manual_seed(5))
    b = replay.sample(4000, 1, torch.Generator().manual_seed(5))
    assert torch.equal(a.obs, b.obs)
    counts = torch.bincount(a.agent, minlength=3).float()
    assert (counts / 4000 - 1 / 3).abs().max() < 0.03


def test_prioritized_sampling_prefers_high_priorities_and_weights_them_down():
    replay = Replay(
        100, 1, obs_dim=3, num_actions=6, prioritized={"alpha": 1.0, "beta": 0.4, "epsilon": 1e-6}
    )
    _fill(replay, 10, agents=1)
    batch = replay.sample(10, 1, torch.Generator().manual_seed(0))
    priorities = torch.where(batch.start == 3, 100.0, 0.01)
    replay.update_priorities(batch, priorities)
    big = replay.sample(2000, 1, torch.Generator().manual_seed(1), beta=1.0)
    if bool((batch.start == 3).any()):
        share = float((big.start == 3).float().mean())
        assert share > 0.5
        assert float(big.weights[big.start == 3].max()) < float(big.weights.max())


def test_state_round_trip_restores_sampling_exactly():
    replay = Replay(40, 2, obs_dim=3, num_actions=6, hidden_shape=(1, 4))
    _fill(replay, 13)
    copy = Replay(40, 2, obs_dim=3, num_actions=6, hidden_shape=(1, 4))
    copy.load_state_dict(replay.state_dict())
    a = replay.sample(16, 3, torch.Generator().manual_seed(2))
    b = copy.sample(16, 3, torch.Generator().manual_seed(2))
    assert torch.equal(a.obs, b.obs) and torch.equal(a.hidden[0], b.hidden[0])


def test_extend_stores_what_add_stores_step_by_step():
    # the learner process stores the steps staged between two barriers in one call
    generator = torch.Generator().manual_seed(0)
    agents, layers, size = 3, 2, 4
    for count in (1, 3, 4, 6):  # 6: more than a ring holds
        one, many = (
            Replay(agents * size, agents, obs_dim=5, num_actions=6, hidden_shape=(layers, 7),
                   prioritized={"alpha": 0.6, "beta": 0.4, "epsilon": 1e-6})
            for _ in range(2)
        )  # fmt: skip
        for _ in range(3):  # (wraps around the rings)
            steps = (
                torch.randn(count, agents, 5, generator=generator),
                torch.randint(0, 6, (count, agents), generator=generator),
                torch.randn(count, agents, generator=generator),
                torch.randn(count, agents, 5, generator=generator),
                torch.rand(count, agents, 6, generator=generator) < 0.5,
                torch.rand(count, agents, generator=generator) < 0.5,
                torch.rand(count, agents, generator=generator) < 0.5,
            )
            hidden = tuple(torch.randn(count, layers, agents, 7, generator=generator)
                           for _ in range(2))  # fmt: skip
            for t in range(count):
                one.add(*(field[t] for field in steps), (hidden[0][t], hidden[1][t]))
            many.extend(*steps, hidden=hidden)
            one.max_priority = many.max_priority = torch.tensor(float(count))
        assert one.written == many.written
        for name in ("obs", "actions", "rewards", "next_obs", "next_mask", "terminal", "end",
                     "priority"):  # fmt: skip
            assert torch.equal(getattr(one, name), getattr(many, name)), (count, name)
        for a, b in zip(one.hidden, many.hidden, strict=True):
            assert torch.equal(a, b), count

"""The DQN learner: targets respect masks, learning moves Q the right way, recurrent
windows replay the acting state, and every brain variant trains."""

from __future__ import annotations

import copy

import pytest
import torch

from hamlet.compiler import brain_from_data, compile_brain, load_brain
from hamlet.runtime import HamletModel
from hamlet.runtime.learning import dqn
from hamlet.runtime.learning.dqn import DQNLearner
from hamlet.runtime.learning.replay import Batch
from hamlet.schemas import ObservationLayout

from ..conftest import HEAD_COMBOS, TRUNKS

TINY = ObservationLayout.from_shapes({"features": (4,)}, 3)


def _tiny_model(**learning) -> HamletModel:
    data = {
        "name": "tiny",
        "network": {"head": {"kind": "q_head", "input": "obs", "hidden": [16]}},
        "learning": {"batch_size": 32, "learning_starts": 1, "learning_rate": 0.01, **learning},
    }
    return HamletModel.from_spec(compile_brain(brain_from_data(data), layout=TINY), seed=0)


def _store(learner: DQNLearner, obs, action, reward, next_obs, next_mask, terminal, times=1):
    for _ in range(times):
        learner.replay.add(
            torch.tensor([obs], dtype=torch.float32),
            torch.tensor([action]),
            torch.tensor([reward], dtype=torch.float32),
            torch.tensor([next_obs], dtype=torch.float32),
            torch.tensor([next_mask]),
            torch.tensor([terminal]),
            torch.tensor([terminal]),
        )


def test_learning_moves_q_towards_the_rewarded_action():
    model = _tiny_model(gamma=0.0)
    learner = DQNLearner(model, 1, generator=torch.Generator().manual_seed(0))
    state = [1.0, 0.0, 0.0, 0.0]
    for action, reward in ((0, 0.0), (1, 1.0), (2, -1.0)):
        _store(learner, state, action, reward, state, [True] * 3, True, times=20)
    for _ in range(300):
        learner.learn()
    q = model.predict(torch.tensor([state]))["q_values"][0]
    assert torch.allclose(q, torch.tensor([0.0, 1.0, -1.0]), atol=0.05)


@pytest.mark.parametrize("double", [False, True])
def test_the_next_action_is_chosen_among_valid_ones(double, monkeypatch):
    model = _tiny_model(gamma=0.5, double_dqn=double, loss="mse")
    learner = DQNLearner(model, 1, generator=torch.Generator().manual_seed(0))
    _store(learner, [1, 0, 0, 0], 0, 1.0, [0, 1, 0, 0], [False, True, True], False)
    # Next-state values: the invalid action 0 looks best to both networks.
    next_q = torch.tensor([[[100.0, 4.0, 2.0]]]).expand(32, 1, 3)
    now = torch.zeros(32, 1, 3, requires_grad=True)
    monkeypatch.setattr(learner, "_evaluate", lambda batch: (now, next_q, next_q))
    loss = learner.learn()["loss"]
    # target = 1 + 0.5 * 4 (action 1, the best valid one); prediction 0; MSE
    assert loss == pytest.approx(3.0**2)


def test_terminal_transitions_do_not_bootstrap(monkeypatch):
    model = _tiny_model(gamma=0.9, loss="mse")
    learner = DQNLearner(model, 1, generator=torch.Generator().manual_seed(0))
    _store(learner, [1, 0, 0, 0], 2, 0.5, [0, 1, 0, 0], [False, False, False], True)
    next_q = torch.full((32, 1, 3), 50.0)
    now = torch.zeros(32, 1, 3, requires_grad=True)
    monkeypatch.setattr(learner, "_evaluate", lambda batch: (now, next_q, next_q))
    assert learner.learn()["loss"] == pytest.approx(0.25)


def test_target_network_follows_on_schedule():
    model = _tiny_model(target_update={"every": 3, "tau": 1.0})
    learner = DQNLearner(model, 1, generator=torch.Generator().manual_seed(0))
    _store(learner, [1, 0, 0, 0], 1, 1.0, [1, 0, 0, 0], [True] * 3, True, times=4)

    def same():
        return all(
            torch.equal(a, b)
            for a, b in zip(learner.target.parameters(), model.module.parameters(), strict=True)
        )

    learner.learn()
    learner.learn()
    assert not same()
    learner.learn()
    assert same()


def test_polyak_moves_the_target_part_way():
    model = _tiny_model(target_update={"every": 1, "tau": 0.25})
    learner = DQNLearner(model, 1, generator=torch.Generator().manual_seed(0))
    before = [p.clone() for p in learner.target.parameters()]
    learner.update_target(0.25)
    for old, new, online in zip(
        before, learner.target.parameters(), model.module.parameters(), strict=True
    ):
        torch.testing.assert_close(new, old + 0.25 * (online - old))


def test_recurrent_windows_replay_the_stored_acting_state():
    model = HamletModel.from_spec(
        "recurrent_spatial_q", layout=TRUNKS["recurrent_spatial_q"], seed=0
    )
    learner = DQNLearner(model, 1, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(1)
    h, c = model.initial_state(1)
    obs = torch.randn(1, 54, generator=gen)
    for _ in range(30):
        _, h_next, c_next = model.module(obs, h, c)
        next_obs = torch.randn(1, 54, generator=gen)
        learner.replay.add(obs, torch.tensor([1]), torch.tensor([0.0]), next_obs,
                           torch.ones(1, 6, dtype=torch.bool), torch.tensor([False]),
                           torch.tensor([False]), (h, c))  # fmt: skip
        obs, h, c = next_obs, h_next.detach(), c_next.detach()
    batch = learner.replay.sample(4, 12, torch.Generator().manual_seed(2))
    now, online_next, _ = learner._evaluate(batch)
    for row in range(4):
        start = int(batch.start[row])
        hs, cs = (
            learner.replay.hidden[0][0, start][:, None],
            learner.replay.hidden[1][0, start][:, None],
        )
        steps = int(batch.length[row].sum())
        for t in range(steps):
            q, hs, cs = model.module(batch.obs[row, t : t + 1], hs, cs)
            torch.testing.assert_close(now[row, t], q[0], atol=1e-5, rtol=0)
            q_next, _, _ = model.module(batch.next_obs[row, t : t + 1], hs, cs)
            torch.testing.assert_close(online_next[row, t], q_next[0], atol=1e-5, rtol=0)


@pytest.mark.parametrize("combo", HEAD_COMBOS, ids=str)
@pytest.mark.parametrize("trunk", TRUNKS)
def test_every_brain_variant_learns_without_nans(trunk, combo):
    data = copy.deepcopy(load_brain(trunk).doc.data)
    head = next(n for n, node in data["network"].items() if node["kind"] == "q_head")
    dueling, distributional, noisy = combo
    data["network"][head].update(dueling=dueling, distributional=distributional, noisy=noisy)
    data["learning"] = {"batch_size": 8, "learning_starts": 1, "n_step": 3, "double_dqn": True,
                        "loss": "huber", "replay": {"capacity": 200, "prioritized": True},
                        "sequence": {"length": 4, "burn_in": 2}}  # fmt: skip
    layout = TRUNKS[trunk]
    model = HamletModel.from_spec(compile_brain(brain_from_data(data), layout=layout), seed=0)
    learner = DQNLearner(model, 2, generator=torch.Generator().manual_seed(0))
    hidden = model.initial_state(2)
    gen = torch.Generator().manual_seed(3)
    for t in range(20):
        obs = torch.randn(2, layout.obs_dim, generator=gen)
        learner.replay.add(obs, torch.randint(0, 6, (2,), generator=gen),
                           torch.rand(2, generator=gen), obs + 0.1,
                           torch.rand(2, 6, generator=gen) > 0.3, torch.tensor([t == 9, False]),
                           torch.tensor([t == 9, t == 15]), hidden)  # fmt: skip
    before = [p.clone() for p in model.module.parameters()]
    for _ in range(3):
        stats = learner.learn(beta=0.5)
        assert torch.isfinite(stats["loss"])
    assert any(
        not torch.equal(a, b) for a, b in zip(before, model.module.parameters(), strict=True)
    )


@pytest.mark.parametrize("double", [False, True], ids=["dqn", "double"])
@pytest.mark.parametrize("combo", HEAD_COMBOS, ids=str)
def test_a_feed_forward_n_step_window_reads_only_what_its_first_step_needs(
    combo, double, monkeypatch
):
    # The learner evaluates a feed-forward window's first state and the next state its
    # return bootstraps from, not all 2n: the same step as on the whole window.
    def learner() -> DQNLearner:
        data = copy.deepcopy(load_brain("simple_q").doc.data)
        head = next(n for n, node in data["network"].items() if node["kind"] == "q_head")
        dueling, distributional, noisy = combo
        data["network"][head].update(dueling=dueling, distributional=distributional, noisy=noisy)
        data["learning"] = {"batch_size": 16, "learning_starts": 1, "n_step": 4,
                            "double_dqn": double, "replay": {"capacity": 400, "prioritized": True}}  # fmt: skip
        brain = compile_brain(brain_from_data(data), layout=TRUNKS["simple_q"])
        model = HamletModel.from_spec(brain, seed=0)
        made = DQNLearner(model, 2, generator=torch.Generator().manual_seed(0))
        gen = torch.Generator().manual_seed(3)
        for t in range(40):
            obs = torch.randn(2, model.obs_dim, generator=gen)
            ended = torch.tensor([t % 7 == 6, t % 11 == 10])
            made.replay.add(obs, torch.randint(0, 6, (2,), generator=gen),
                            torch.randn(2, generator=gen), obs + 0.1,
                            torch.rand(2, 6, generator=gen) > 0.3, ended & (t > 20), ended)  # fmt: skip
        return made

    cut, whole = learner(), learner()
    losses = [cut.learn(beta=0.5)["loss"] for _ in range(3)]
    monkeypatch.setattr(dqn, "_first_step", lambda batch, targets: (batch, targets))
    expected = [whole.learn(beta=0.5)["loss"] for _ in range(3)]
    torch.testing.assert_close(losses, expected, rtol=1e-4, atol=1e-5)
    for mine, theirs in zip(cut.online.parameters(), whole.online.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(cut.replay.priority, whole.replay.priority, rtol=1e-4, atol=1e-5)


def test_a_feed_forward_n_step_window_costs_one_step_of_network_work(monkeypatch):
    # What the test above cannot see: how many states the networks read.
    learner_model = _tiny_model(n_step=4, double_dqn=True)
    learner = DQNLearner(learner_model, 1, generator=torch.Generator().manual_seed(0))
    for t in range(10):
        _store(learner, [float(t), 0.0, 0.0, 0.0], 1, 1.0, [t + 1.0, 0, 0, 0], [True] * 3, False)
    rows = []
    forward = type(learner.online).forward

    def counting(module, obs, *args, **kwargs):
        rows.append(obs.shape[0])
        return forward(module, obs, *args, **kwargs)

    monkeypatch.setattr(type(learner.online), "forward", counting)
    learner.learn()
    assert sum(rows) == 3 * 32  # online: state and next state; target: next state


@pytest.mark.parametrize("double_dqn", [False, True])
def test_no_gradient_flows_through_the_burn_in(double_dqn):
    # Only the burn-in frames see a position: if the trained steps' loss reached back
    # through the warmed-up state, the position encoder would get a gradient.
    data = copy.deepcopy(load_brain("recurrent_spatial_q").doc.data)
    data["learning"] = {"double_dqn": double_dqn, "sequence": {"length": 3, "burn_in": 2}}
    model = HamletModel.from_spec(
        compile_brain(brain_from_data(data), layout=TRUNKS["recurrent_spatial_q"]), seed=0
    )
    learner = DQNLearner(model, 1, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(1)
    batch_size, time = 4, 5
    obs = torch.randn(batch_size, time, 54, generator=gen)
    next_obs = torch.randn(batch_size, time, 54, generator=gen)
    obs[:, 1:, 25:27] = 0.0  # frames: obs[:, 0], then next_obs[:, 0..time-1]
    next_obs[:, 1:, 25:27] = 0.0  # so frames 0 and 1 (the burn-in) alone have one
    flags = torch.zeros(batch_size, time, dtype=torch.bool)
    batch = Batch(
        obs=obs, actions=torch.zeros(batch_size, time, dtype=torch.long),
        rewards=torch.zeros(batch_size, time), next_obs=next_obs,
        next_mask=torch.ones(batch_size, time, 6, dtype=torch.bool), terminal=flags,
        end=flags, agent=torch.zeros(batch_size, dtype=torch.long),
        start=torch.zeros(batch_size, dtype=torch.long), weights=torch.ones(batch_size),
        hidden=model.initial_state(batch_size), length=~flags,
    )  # fmt: skip
    now, online_next, target_next = learner._evaluate(batch)
    assert now.shape == online_next.shape == target_next.shape == (batch_size, time, 6)
    now[:, 2:].sum().backward()
    position = model.module.position_encoder[0].weight.grad
    assert position is not None and torch.count_nonzero(position) == 0
    lstm = model.module.lstm.weight_hh_l0.grad
    assert lstm is not None and torch.count_nonzero(lstm) > 0  # the trained steps do learn
    # The burn-in's outputs are still the network's, step by step from the stored state.
    h, c = batch.hidden
    q, _, _ = model.module(obs[:, 0], h, c)
    torch.testing.assert_close(now[:, 0], q, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("learning", "window"),
    [({"n_step": 3}, 3), ({"n_step": 1}, 1)],
    ids=["n-step-3", "n-step-1"],
)
def test_every_agent_s_share_of_the_replay_holds_a_window(learning, window):
    model = _tiny_model(replay={"capacity": 60}, **learning)
    generator = torch.Generator().manual_seed(0)
    assert DQNLearner(model, 60 // window, generator=generator).window == window
    with pytest.raises(ValueError, match=f"fewer than the {window} of a window"):
        DQNLearner(model, 60 // window + 1, generator=generator)

"""predict: pure, batched, masked, reproducible; for every brain the compiler builds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hamlet.runtime import NO_ACTION, HamletModel, StatefulModel, select_actions

from ..conftest import HEAD_COMBOS, TRUNKS, variant_model

pytestmark = pytest.mark.numeric  # run again on other CPU kernels by .ci/run

MODELS = {(trunk, combo): variant_model(trunk, *combo) for trunk in TRUNKS for combo in HEAD_COMBOS}


def _snapshot(model: HamletModel) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.module.state_dict().items()}


@st.composite
def batches(draw):
    key = draw(st.sampled_from(sorted(MODELS)))
    model = MODELS[key]
    batch = draw(st.integers(1, 9))
    seed = draw(st.integers(0, 2**31 - 1))
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(batch, model.obs_dim, generator=gen)
    mask = torch.rand(batch, model.num_actions, generator=gen) < 0.6
    mask[torch.arange(batch), torch.randint(0, model.num_actions, (batch,), generator=gen)] = True
    epsilon = draw(st.sampled_from([0.0, 0.3, 1.0]))
    return model, obs, mask, epsilon, seed


@settings(max_examples=120, deadline=None)
@given(batches())
def test_predict_is_pure(case):
    model, obs, mask, epsilon, seed = case
    obs_before, mask_before, weights = obs.clone(), mask.clone(), _snapshot(model)
    hidden = model.initial_state(obs.shape[0])
    if hidden is not None:
        hidden = tuple(torch.randn_like(t) for t in hidden)
        hidden_before = tuple(t.clone() for t in hidden)
    first = model.predict(obs, hidden, epsilon, mask, torch.Generator().manual_seed(seed))
    second = model.predict(obs, hidden, epsilon, mask, torch.Generator().manual_seed(seed))
    assert torch.equal(obs, obs_before) and torch.equal(mask, mask_before)
    assert all(torch.equal(v, weights[k]) for k, v in model.module.state_dict().items())
    if hidden is not None:
        assert all(torch.equal(a, b) for a, b in zip(hidden, hidden_before, strict=True))
    # same inputs, same generator seed: same outputs (no state was kept in between)
    assert torch.equal(first["actions"], second["actions"])
    assert torch.equal(first["q_values"], second["q_values"])


@settings(max_examples=120, deadline=None)
@given(batches())
def test_predict_never_chooses_a_masked_action(case):
    model, obs, mask, epsilon, seed = case
    result = model.predict(obs, epsilon=epsilon, action_mask=mask,
                           generator=torch.Generator().manual_seed(seed))  # fmt: skip
    actions = result["actions"]
    assert actions.shape == (obs.shape[0],)
    assert bool(mask[torch.arange(obs.shape[0]), actions].all())
    if epsilon == 0.0:
        best = result["q_values"].masked_fill(~mask, float("-inf")).argmax(dim=1)
        assert torch.equal(actions, best)


@settings(max_examples=60, deadline=None)
@given(batches(), st.integers(0, 2**31 - 1))
def test_generator_makes_exploration_reproducible(case, other):
    model, obs, mask, _, seed = case

    def draw(s):
        return model.predict(obs, epsilon=0.5, action_mask=mask,
                             generator=torch.Generator().manual_seed(s))["actions"]  # fmt: skip

    assert torch.equal(draw(seed), draw(seed))


def test_epsilon_one_is_uniform_over_valid_actions():
    q = torch.zeros(20000, 6)
    mask = torch.tensor([[True, False, True, True, False, False]]).expand(20000, 6)
    actions = select_actions(
        q, epsilon=1.0, action_mask=mask, generator=torch.Generator().manual_seed(0)
    )
    counts = torch.bincount(actions, minlength=6)
    assert counts[[1, 4, 5]].sum() == 0
    assert (counts[[0, 2, 3]] - 20000 / 3).abs().max() < 400  # about 5 standard deviations


def test_per_row_epsilon_and_rows_without_valid_actions():
    q = torch.tensor([[0.0, 1.0], [0.0, 1.0], [3.0, 2.0]])
    mask = torch.tensor([[True, True], [True, True], [False, False]])
    actions = select_actions(q, epsilon=torch.tensor([0.0, 1.0, 0.0]), action_mask=mask,
                             generator=torch.Generator().manual_seed(1))  # fmt: skip
    assert actions[0] == 1 and actions[2] == NO_ACTION
    with pytest.raises(ValueError, match="epsilon"):
        select_actions(q, epsilon=1.5)


def test_numpy_and_torch_inputs_agree(simple_model):
    obs = np.random.default_rng(0).standard_normal((4, simple_model.obs_dim)).astype(np.float64)
    mask = np.ones((4, 6), dtype=bool)
    mask[:, 0] = False
    from_numpy = simple_model.predict(obs, action_mask=mask)
    from_torch = simple_model.predict(
        torch.from_numpy(obs).float(), action_mask=torch.from_numpy(mask)
    )
    assert torch.equal(from_numpy["actions"], from_torch["actions"])
    assert torch.allclose(from_numpy["q_values"], from_torch["q_values"])
    assert from_numpy["hidden"] is None


def test_wrong_shapes_say_what_is_expected(simple_model, recurrent_model):
    with pytest.raises(ValueError, match=r"\[batch, 91\]"):
        simple_model.predict(torch.zeros(91))
    with pytest.raises(ValueError, match=r"\[1, 2, 256\]"):
        recurrent_model.predict(torch.zeros(2, 54), hidden=recurrent_model.initial_state(3))
    with pytest.raises(ValueError, match="noisy"):
        simple_model.predict(torch.zeros(1, 91), noise=True)


def test_recurrent_predict_advances_the_hidden_state(recurrent_model):
    obs = torch.randn(2, 54, generator=torch.Generator().manual_seed(0))
    first = recurrent_model.predict(obs)
    h, c = first["hidden"]
    assert h.shape == (1, 2, 256) and not torch.equal(h, torch.zeros_like(h))
    again = recurrent_model.predict(obs, hidden=first["hidden"])
    assert not torch.allclose(again["q_values"], first["q_values"])
    # the same as the module's own step from that state
    q, _, _ = recurrent_model.module(obs, h, c)
    torch.testing.assert_close(again["q_values"], q)


def test_stateful_model_carries_and_resets_state(recurrent_model):
    agent = StatefulModel(recurrent_model, batch_size=2)
    obs = torch.randn(2, 54, generator=torch.Generator().manual_seed(1))
    first = agent.step(obs)
    second = agent.step(obs)
    assert not torch.allclose(first["q_values"], second["q_values"])
    agent.reset(torch.tensor([True, False]))
    third = agent.step(obs)
    torch.testing.assert_close(third["q_values"][0], first["q_values"][0])  # fresh again
    assert not torch.allclose(third["q_values"][1], first["q_values"][1])  # still remembers
    agent.reset()
    assert all(torch.equal(t, torch.zeros_like(t)) for t in agent.hidden)


def test_noisy_predict_is_deterministic_unless_asked(request):
    model = variant_model("simple_q", False, False, True)
    obs = torch.randn(3, model.obs_dim)
    quiet = model.predict(obs)["q_values"]
    assert torch.equal(model.predict(obs)["q_values"], quiet)
    loud = model.predict(obs, noise=True, generator=torch.Generator().manual_seed(0))["q_values"]
    loud_again = model.predict(obs, noise=True, generator=torch.Generator().manual_seed(0))[
        "q_values"
    ]
    assert torch.equal(loud, loud_again) and not torch.allclose(loud, quiet)


@pytest.mark.parametrize("trunk", TRUNKS)
def test_distributional_predict_gives_expected_q_and_the_distribution(trunk):
    model = variant_model(trunk, True, True, False)
    obs = torch.randn(3, model.obs_dim)
    result = model.predict(obs, return_distribution=True)
    probs, support = result["distribution"], result["support"]
    assert probs.shape == (3, 6, 11) and support.shape == (11,)
    torch.testing.assert_close(probs.sum(-1), torch.ones(3, 6))
    torch.testing.assert_close(result["q_values"], (probs * support).sum(-1))


@pytest.mark.parametrize(("trunk", "combo"), sorted(MODELS))
def test_every_brain_predicts(trunk, combo):
    model = MODELS[(trunk, combo)]
    result = model.predict(torch.zeros(4, model.obs_dim), epsilon=0.1,
                           generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert result["actions"].shape == (4,) and result["q_values"].shape == (4, 6)
    assert (result["hidden"] is not None) == (trunk == "recurrent_spatial_q")


def test_from_spec_seed_is_reproducible_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = HamletModel.from_spec("simple_q", world="L0_0_minimal", seed=5)
    b = HamletModel.from_spec("simple_q", world="L0_0_minimal", seed=5)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert all(
        torch.equal(x, y) for x, y in zip(a.module.parameters(), b.module.parameters(), strict=True)
    )
    assert a.obs_dim == 36

"""n-step returns and the C51 projection, checked against hand computation."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hamlet.runtime.learning.targets import n_step, project_distribution


def _flags(*values: int) -> torch.Tensor:
    return torch.tensor([values], dtype=torch.bool)


def test_one_step_is_plain_td():
    r = torch.tensor([[2.0, 3.0]])
    out = n_step(r, _flags(0, 0), _flags(0, 0), _flags(1, 1), gamma=0.9, n=1)
    assert out.returns.tolist() == [[2.0, 3.0]]
    assert torch.allclose(out.discount, torch.tensor([[0.9, 0.9]]))
    assert out.last.tolist() == [[0, 1]]


def test_a_terminal_step_stops_the_return_and_the_bootstrap():
    r = torch.tensor([[1.0, 2.0, 3.0]])
    out = n_step(r, _flags(0, 1, 0), _flags(0, 1, 0), _flags(1, 1, 1), gamma=0.5, n=3)
    assert out.returns[0, 0] == 1.0 + 0.5 * 2.0
    assert out.discount[0, 0] == 0.0  # died at step 1: nothing to bootstrap from
    assert out.last[0, 0] == 1


def test_a_cut_off_episode_still_bootstraps():
    r = torch.tensor([[1.0, 2.0, 3.0]])
    out = n_step(r, _flags(0, 0, 0), _flags(0, 1, 0), _flags(1, 1, 1), gamma=0.5, n=3)
    assert out.returns[0, 0] == 2.0 and out.discount[0, 0] == 0.25 and out.last[0, 0] == 1


def test_steps_not_yet_written_are_not_used():
    r = torch.tensor([[1.0, 100.0]])
    out = n_step(r, _flags(0, 0), _flags(0, 0), _flags(1, 0), gamma=0.5, n=2)
    assert out.returns[0, 0] == 1.0 and out.discount[0, 0] == 0.5 and out.last[0, 0] == 0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1, 1), min_size=1, max_size=6),
    st.integers(1, 5),
    st.floats(0.5, 0.99),
)
def test_matches_a_loop_over_the_window(rewards, n, gamma):
    r = torch.tensor([rewards])
    time = len(rewards)
    flags = torch.zeros(1, time, dtype=torch.bool)
    out = n_step(r, flags, flags, ~flags, gamma=gamma, n=n)
    for i in range(time):
        m = min(n, time - i)
        expected = sum(gamma**k * rewards[i + k] for k in range(m))
        assert abs(float(out.returns[0, i]) - expected) < 1e-5
        assert abs(float(out.discount[0, i]) - gamma**m) < 1e-5


def test_projection_keeps_mass_and_shifts_the_mean():
    support = torch.linspace(-10, 10, 51)
    probs = torch.softmax(torch.randn(4, 51, generator=torch.Generator().manual_seed(0)), -1)
    returns, discount = torch.tensor([0.3, -1.0, 2.5, 0.0]), torch.tensor([0.9, 0.9, 0.5, 0.0])
    projected = project_distribution(probs, returns, discount, support)
    torch.testing.assert_close(projected.sum(-1), torch.ones(4))
    mean = (projected * support).sum(-1)
    expected = returns + discount * (probs * support).sum(-1)
    torch.testing.assert_close(mean, expected, atol=1e-4, rtol=0)
    assert torch.allclose(projected[3], torch.nn.functional.one_hot(torch.tensor(25), 51).float())


def test_projection_clips_at_the_support_edges():
    support = torch.linspace(-1, 1, 3)
    probs = torch.tensor([[0.0, 0.0, 1.0]])
    projected = project_distribution(probs, torch.tensor([5.0]), torch.tensor([1.0]), support)
    assert projected.tolist() == [[0.0, 0.0, 1.0]]

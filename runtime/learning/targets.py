"""TD targets: n-step returns inside a sampled window, and the C51 projection.

Both work on ``[batch, time]`` windows. A return starting at step ``i`` adds up to
``n`` rewards, stopping after a step that ends its episode or at the window's edge,
and then bootstraps from the next state of its last step, unless that step was
terminal (death or retirement; an episode cut off by the step limit does bootstrap).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class NStep:
    """Per position: the discounted reward sum, the bootstrap discount, and the position
    whose next state is bootstrapped from."""

    returns: Tensor
    discount: Tensor
    """``gamma ** m``, or 0 when the last step used was terminal."""
    last: Tensor
    """Index (into time) of the last step used."""


def n_step(
    rewards: Tensor, terminal: Tensor, end: Tensor, present: Tensor, gamma: float, n: int
) -> NStep:
    """n-step returns for every position of ``[batch, time]`` windows.

    >>> r = torch.tensor([[1.0, 1.0, 1.0]])
    >>> f = torch.zeros(1, 3, dtype=torch.bool)
    >>> out = n_step(r, f, f, ~f, gamma=0.5, n=2)
    >>> out.returns.tolist(), out.discount.tolist(), out.last.tolist()
    ([[1.5, 1.5, 1.0]], [[0.25, 0.25, 0.5]], [[1, 2, 2]])
    """
    batch, time = rewards.shape
    returns = torch.zeros_like(rewards)
    positions = torch.arange(time, device=rewards.device).expand(batch, time)
    last = positions.clone()
    going = present.clone()  # this return still takes rewards
    scale = torch.ones_like(rewards)
    ended_terminal = torch.zeros_like(terminal)
    for k in range(n):
        if k > 0:
            index = positions + k
            inside = index < time
            index = index.clamp(max=time - 1)
            going = going & inside & torch.gather(present, 1, index)
        else:
            index = positions
        step_reward = torch.gather(rewards, 1, index)
        returns = returns + torch.where(going, scale * step_reward, 0.0)
        last = torch.where(going, index, last)
        ended_terminal = torch.where(going, torch.gather(terminal, 1, index), ended_terminal)
        stop = torch.gather(end, 1, index)
        scale = torch.where(going, scale * gamma, scale)
        going = going & ~stop
    discount = torch.where(ended_terminal, 0.0, scale)
    return NStep(returns, discount, last)


def project_distribution(
    next_probs: Tensor, returns: Tensor, discount: Tensor, support: Tensor
) -> Tensor:
    """C51: the distribution of ``returns + discount * Z`` on the fixed ``support``.

    ``next_probs`` is ``[..., atoms]`` (the next state's distribution for the chosen
    action); ``returns`` and ``discount`` are ``[...]``. Each shifted atom's probability
    is split between the two support points around it.
    """
    atoms = support.shape[0]
    v_min, v_max = float(support[0]), float(support[-1])
    delta = (v_max - v_min) / (atoms - 1)
    shifted = (returns[..., None] + discount[..., None] * support).clamp(v_min, v_max)
    position = (shifted - v_min) / delta
    lower, upper = position.floor().long(), position.ceil().long()
    # When a point lands exactly on an atom, lower == upper: give it all the mass.
    lower_weight = torch.where(lower == upper, 1.0, upper.to(position.dtype) - position)
    upper_weight = position - lower.to(position.dtype)
    projected = torch.zeros_like(next_probs)
    projected.scatter_add_(-1, lower, next_probs * lower_weight)
    projected.scatter_add_(-1, upper, next_probs * torch.where(lower == upper, 0.0, upper_weight))
    return projected

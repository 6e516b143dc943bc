"""Choosing actions from Q-values: greedy, epsilon-greedy, always among valid actions.

>>> q = torch.tensor([[1.0, 5.0, 3.0]])
>>> select_actions(q, action_mask=torch.tensor([[True, False, True]])).tolist()
[2]
"""

from __future__ import annotations

import torch
from torch import Tensor

NO_ACTION = -1
"""The action of a row whose mask allows nothing (a dead agent): there is no valid choice."""


def select_actions(
    q_values: Tensor,
    *,
    epsilon: float | Tensor = 0.0,
    action_mask: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Epsilon-greedy actions ``[batch]`` from ``q_values [batch, actions]``.

    With probability ``epsilon`` (a float, or one value per row) a row takes an
    action drawn uniformly from its valid ones, otherwise its best valid one. A masked
    action (``action_mask`` False) is never chosen; a row with no valid action gets
    :data:`NO_ACTION`. Random draws come from ``generator`` when one is given.
    Nothing passed in is modified.
    """
    batch, actions = q_values.shape
    if action_mask is None and isinstance(epsilon, float | int) and epsilon == 0.0:
        return q_values.argmax(dim=1)  # the common greedy case, without mask bookkeeping
    valid = (
        torch.ones_like(q_values, dtype=torch.bool)
        if action_mask is None
        else action_mask.to(device=q_values.device, dtype=torch.bool)
    )
    if valid.shape != q_values.shape:
        raise ValueError(f"action_mask has shape {list(valid.shape)}, expected {[batch, actions]}")
    chosen = q_values.masked_fill(~valid, float("-inf")).argmax(dim=1)
    explore = _explore_rows(epsilon, batch, q_values.device, generator)
    if explore is not None:
        # Uniform over the valid actions: the argmax of random scores on them.
        scores = torch.rand(batch, actions, device=q_values.device, generator=generator)
        random = scores.masked_fill(~valid, -1.0).argmax(dim=1)
        chosen = torch.where(explore, random, chosen)
    return chosen.masked_fill(~valid.any(dim=1), NO_ACTION)


def _explore_rows(
    epsilon: float | Tensor, batch: int, device: torch.device, generator: torch.Generator | None
) -> Tensor | None:
    if isinstance(epsilon, Tensor):
        epsilon = epsilon.to(device=device, dtype=torch.float32)
        if epsilon.dim() == 0:
            epsilon = epsilon.expand(batch)
        if epsilon.shape != (batch,):
            raise ValueError(f"epsilon has shape {list(epsilon.shape)}, expected [{batch}]")
        if not bool(((epsilon >= 0) & (epsilon <= 1)).all()):
            raise ValueError("epsilon must lie in [0, 1]")
    else:
        if not 0.0 <= float(epsilon) <= 1.0:
            raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")
        if float(epsilon) == 0.0:
            return None  # greedy: draw nothing, so a generator is left untouched
    return torch.rand(batch, device=device, generator=generator) < epsilon

"""Choosing actions from Q-values: greedy, epsilon-greedy, always among valid actions.

Uniformly random valid actions read each row's mask as a bit pattern and pick with one
random number per row from a precomputed table: drawing ``N x A`` random numbers and
taking an argmax, the obvious way, is several times slower on a CPU.

>>> q = torch.tensor([[1.0, 5.0, 3.0]])
>>> select_actions(q, action_mask=torch.tensor([[True, False, True]])).tolist()
[2]
"""

from __future__ import annotations

import torch
from torch import Tensor

NO_ACTION = -1
"""The action of a row whose mask allows nothing (a dead agent): there is no valid choice."""

_TABLES: dict[tuple[int, torch.device], tuple[Tensor, Tensor, Tensor, Tensor]] = {}


def _tables(num_actions: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Bit weights ``[A]``, valid-action counts ``[2^A]``, the k-th valid action of each
    pattern ``[2^A * A]`` (flat; :data:`NO_ACTION` past the count) and ``A`` as a tensor."""
    key = (num_actions, device)
    if key not in _TABLES:
        # An integer matmul is the fastest way to read the bit patterns on a CPU; CUDA has
        # none, so there they are read as floats (exact: patterns are < 2^24).
        dtype = torch.long if device.type == "cpu" else torch.float32
        weights = [1 << a for a in range(num_actions)]
        counts, choices = [], []
        for pattern in range(1 << num_actions):
            valid = [a for a in range(num_actions) if pattern >> a & 1]
            counts.append(float(len(valid)))
            choices += valid + [NO_ACTION] * (num_actions - len(valid))
        _TABLES[key] = (
            torch.tensor(weights, dtype=dtype, device=device),
            torch.tensor(counts, device=device),
            torch.tensor(choices, dtype=torch.long, device=device),
            torch.tensor(num_actions, device=device),
        )
    return _TABLES[key]


def random_valid_actions(mask: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """``[N]`` long: for each row of ``mask [N, A]`` (True = valid), an action drawn
    uniformly from its valid ones, or :data:`NO_ACTION` if it has none.

    Draws ``N`` random numbers from ``generator``.
    """
    rows, num_actions = mask.shape
    weights, counts, choices, width = _tables(num_actions, mask.device)
    pattern = (mask.to(weights.dtype) @ weights).long()
    draw = torch.rand(rows, generator=generator, device=mask.device)
    rank = (draw * counts.take(pattern)).long()
    return choices.take(torch.addcmul(rank, pattern, width))


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
        chosen = torch.where(explore, random_valid_actions(valid, generator), chosen)
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

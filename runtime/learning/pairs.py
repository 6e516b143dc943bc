"""Which place follows which: each agent's successful interactions, counted in pairs.

An episode's ``affordance_transitions`` (``Bed -> Job: 3``) count how often one
successful interaction was followed by another. The counts live in one tensor on the
trainer's device, ``[agents, V * V]`` with V the affordance vocabulary, and are added
to with one ``index_add_`` per step. Counting them never waits for the host. Python
reads them only when episodes end.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


class InteractionPairs:
    """Per agent: the last affordance used, and the counts of ``(from, to)`` pairs."""

    def __init__(self, vocabulary: tuple[str, ...], agents: int, device: torch.device) -> None:
        self.names = vocabulary
        size = len(vocabulary)
        self.last = torch.full((agents,), -1, dtype=torch.long, device=device)
        """``[agents]``: the vocabulary index of the last affordance used (-1: none yet)."""
        self.counts = torch.zeros(agents, size * size, dtype=torch.int32, device=device)
        self._width = torch.tensor(size, device=device)
        self._base = torch.arange(agents, device=device) * size * size

    def count(self, interactions: Tensor) -> None:
        """Add one step's ``interactions`` (``[agents]``, -1 where none)."""
        used = interactions >= 0
        follows = used & (self.last >= 0)
        pair = torch.addcmul(interactions.clamp(min=0), self.last.clamp(min=0), self._width)
        self.counts.view(-1).index_add_(0, self._base + pair, follows.int())
        self.last = torch.where(used, interactions, self.last)

    def of(self, agents: Tensor) -> dict[int, dict[tuple[str, str], int]]:
        """``{agent: {(from, to): n}}`` for ``agents`` (one read from the device)."""
        size = len(self.names)
        order = agents.tolist()
        found: dict[int, dict[tuple[str, str], int]] = {a: {} for a in order}
        counts = self.counts.index_select(0, agents)
        rows, pairs = torch.nonzero(counts, as_tuple=True)
        for row, pair, n in zip(
            rows.tolist(), pairs.tolist(), counts[rows, pairs].tolist(), strict=True
        ):
            found[order[row]][(self.names[pair // size], self.names[pair % size])] = n
        return found

    def forget(self, ended: Tensor) -> None:
        """Fresh episodes for the agents where ``ended`` is True."""
        self.last[ended] = -1
        self.counts[ended] = 0

    def state_dict(self) -> dict[str, Any]:
        """As training checkpoints keep them: ``last_interaction`` and, per agent, its
        pairs as ``[from, to, n]`` rows."""
        every = torch.arange(self.counts.shape[0], device=self.counts.device)
        return {
            "last_interaction": self.last,
            "transitions": [
                [[a, b, n] for (a, b), n in pairs.items()] for pairs in self.of(every).values()
            ],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last = state["last_interaction"]
        index = {name: i for i, name in enumerate(self.names)}
        self.counts.zero_()
        for agent, rows in enumerate(state["transitions"]):
            for a, b, n in rows:
                self.counts[agent, index[a] * len(index) + index[b]] = int(n)

"""Where things are: random affordance layouts, and per-agent cell maps of them.

Each agent has its own affordance layout, ``[N, K, 2]`` (x, y) of its K deployed
affordances. The step and the observation need it in cell form: what is on each
cell (:attr:`CellMaps.vocab`), and where affordances are as the floats of the
observation's grid (:attr:`CellMaps.grid`), for partial observability zero-padded by
the vision range so that the window around any agent is one ``gather``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def random_layouts(
    count: int,
    num_affordances: int,
    grid_size: int,
    generator: torch.Generator,
    device: torch.device,
) -> Tensor:
    """``[count, K, 2]`` (x, y): K distinct cells per layout, uniform without replacement."""
    keys = torch.rand(count, grid_size * grid_size, generator=generator, device=device)
    cells = keys.argsort(dim=1)[:, :num_affordances]
    return torch.stack((cells % grid_size, cells // grid_size), dim=-1)


@dataclass(frozen=True)
class CellMaps:
    """The affordance layouts of every agent, in cell form."""

    vocab: Tensor
    """``[N * G*G]`` long: vocabulary index of the affordance on each cell (``none`` if
    empty), flat: agent ``i``'s cell ``c`` is at ``i * G*G + c``."""
    grid: Tensor
    """``[N, G*G]`` float, 1.0 where an affordance is; with a vision range ``v``, the same
    on a grid padded with ``v`` empty cells on every side, ``[N, (G+2v)^2]``."""
    shared: Tensor | None
    """``[G*G]``: the vocabulary map of the layout, when every agent has the same one
    (a fixed layout); ``None`` when they differ."""

    @classmethod
    def build(
        cls, layouts: Tensor, deployed: Tensor, grid_size: int, none: int, vision_range: int | None
    ) -> CellMaps:
        """Cell maps of ``layouts [N, K, 2]`` whose K entries hold ``deployed [K]``."""
        count = layouts.shape[0]
        vocab = torch.full(
            (count, grid_size * grid_size), none, dtype=torch.long, device=layouts.device
        )
        cells = layouts[..., 1] * grid_size + layouts[..., 0]
        vocab.scatter_(1, cells, deployed.expand(count, -1))
        grid = (vocab != none).float()
        shared = vocab[0].clone() if bool((layouts == layouts[:1]).all()) else None
        if vision_range is not None:
            side = grid_size + 2 * vision_range
            padded = grid.new_zeros(count, side, side)
            inner = slice(vision_range, vision_range + grid_size)
            padded[:, inner, inner] = grid.view(count, grid_size, grid_size)
            grid = padded.view(count, side * side)
        return cls(vocab.view(-1), grid, shared)

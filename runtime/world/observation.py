"""The observation vector: the fields of the world's :class:`ObservationLayout`, filled in.

townlet-facts §2, with the corrections of WORLD.md:

* ``grid`` (full): G*G cells, 1.0 where an affordance is, +1.0 on the agent's cell.
  ``grid`` (partial): the (2v+1)^2 window centred on the agent, 1.0 where an
  affordance is; off-grid cells read 0 and the agent is not marked.
* ``position`` (partial only): ``(x, y) / (G - 1)``.
* ``meters``: the M meters in tensor order.
* ``affordance``: one-hot of the vocabulary index of the deployed affordance under the
  agent, or of the last ("none") slot.
* ``temporal``: ``sin(2 pi t / 24)``, ``cos(2 pi t / 24)`` of the agent's own clock
  (t = 0 without temporal mechanics), the interaction progress as ticks done over the
  required ticks of the affordance in use (0 when none; the reference divided by 10,
  §6.22), and the lifetime progress ``min(step_count / agent_lifespan, 1)``.

The one-hot and the clock features sit next to each other in every layout, so they
come from one table indexed by the hour key (``rules`` module).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from hamlet.schemas.layout import TEMPORAL_FEATURES, ObservationLayout

from .placement import CellMaps
from .rules import HOURS_PER_DAY


class ObservationBuilder:
    """Builds ``[N, obs_dim]`` observations in the field order of ``layout``.

    When every agent has the same affordance layout (:attr:`CellMaps.shared`), the
    grid fields of an agent depend on its cell only: they come from a per-cell table,
    and so does the whole observation of an agent that was just reset.
    """

    def __init__(
        self,
        layout: ObservationLayout,
        *,
        num_agents: int,
        grid_size: int,
        vision_range: int | None,
        agent_lifespan: int,
        initial_meters: Tensor,
        hours: int,
        required_ticks: Tensor,
    ) -> None:
        vocabulary = required_ticks.shape[0]
        device = required_ticks.device
        head = {"grid": (grid_size, grid_size)}
        if vision_range is not None:
            width = 2 * vision_range + 1
            head = {"grid": (width, width), "position": (2,)}
        expected = [
            *head.items(),
            ("meters", tuple(initial_meters.shape)),
            ("affordance", (vocabulary,)),
            ("temporal", (len(TEMPORAL_FEATURES),)),
        ]
        actual = [(f.name, f.shape) for f in layout.fields]
        if actual != expected:
            raise ValueError(f"observation layout {actual} does not match the world's {expected}")
        self.layout = layout
        self.grid_size = grid_size
        self.vision_range = vision_range
        self.required_ticks = required_ticks
        self.initial_meters = initial_meters
        self.hours = hours
        self.lifespan = torch.tensor(agent_lifespan, device=device)
        one_hot = torch.eye(vocabulary, dtype=torch.float64)
        angles = torch.arange(hours, dtype=torch.float64) * (2.0 * math.pi / HOURS_PER_DAY)
        clock = torch.stack((angles.sin(), angles.cos()), dim=1)
        self._one_hot_clock = (
            torch.cat((one_hot.repeat_interleave(hours, dim=0), clock.repeat(vocabulary, 1)), dim=1)
            .to(device=device, dtype=torch.float32)
            .contiguous()
        )
        """``[(A+1) * hours, A+1+2]``: one-hot and (sin, cos) per hour key."""
        self._ones = torch.ones(num_agents, 1, device=device)
        self._no_progress = torch.zeros(num_agents, 1, device=device) if hours == 1 else None
        self._corner = self._window = self._position = None
        if vision_range is not None:
            side = grid_size + 2 * vision_range
            cells = torch.arange(grid_size * grid_size, device=device)
            x, y = cells % grid_size, cells // grid_size
            # In the grid padded by the vision range, the window's top-left corner is
            # the agent's own cell, shifted by the padding.
            self._corner = y * side + x
            span = torch.arange(2 * vision_range + 1, device=device)
            self._window = (span.unsqueeze(1) * side + span).view(1, -1)
            self._position = torch.stack((x, y), dim=1) / (grid_size - 1)
        self._tables_of: CellMaps | None = None
        self._heads = self._fresh = torch.empty(0)

    def build(
        self,
        *,
        cells: CellMaps,
        cell: Tensor,
        hour_key: Tensor,
        meters: Tensor,
        progress: Tensor,
        current: Tensor,
        step_count: Tensor,
    ) -> Tensor:
        """A new ``[N, obs_dim]`` float tensor for the N agents.

        ``cell [N]`` is each agent's flat cell ``y * G + x``, ``hour_key [N]`` that of the
        vocabulary index under it (``rules`` module), ``meters [N, M]`` its meters,
        ``current [N]`` the vocabulary index of the affordance in use (-1 if idle),
        ``progress [N]`` its ticks done and ``step_count [N]`` its age.
        """
        if cells.shared is not None:
            head = [self._tables(cells, cells.shared)[0].index_select(0, cell)]
        else:
            head = self._head(cells.grid, cell, self._ones)
        if self._no_progress is not None:
            done = self._no_progress  # without temporal mechanics nothing is ever in progress
        else:
            done = (progress / self.required_ticks.take(current)).unsqueeze(1)
        life = (step_count / self.lifespan).clamp_(max=1.0).unsqueeze(1)
        tail = [self._one_hot_clock.index_select(0, hour_key), done, life]
        return torch.cat([*head, meters, *tail], dim=1)

    def build_fresh(self, cells: CellMaps, cell: Tensor, agents: Tensor) -> Tensor:
        """``[n, obs_dim]`` for the ``n`` ``agents`` just reset (initial meters, no progress,
        age 0, hour 0) onto the cells ``cell [n]``."""
        if cells.shared is not None:
            return self._tables(cells, cells.shared)[1].index_select(0, cell)
        here = cells.vocab.take(agents * self.grid_size**2 + cell)
        maps = cells.grid.index_select(0, agents)
        return self._fresh_rows(self._head(maps, cell, torch.ones_like(maps[:, :1])), here)

    def _head(self, maps: Tensor, cell: Tensor, ones: Tensor) -> list[Tensor]:
        """The grid (and position) fields of agents on ``cell`` whose :attr:`CellMaps.grid`
        rows are ``maps``; ``ones`` is ``[n, 1]`` of 1.0."""
        if self._window is None:
            return [torch.scatter_add(maps, 1, cell.unsqueeze(1), ones)]  # +1.0: the agent
        corner = self._corner.take(cell).unsqueeze(1)
        return [maps.gather(1, corner + self._window), self._position.index_select(0, cell)]

    def _fresh_rows(self, head: list[Tensor], here: Tensor) -> Tensor:
        count = here.shape[0]
        zeros = torch.zeros(count, 1, device=here.device)
        meters = self.initial_meters.expand(count, -1)
        tail = [self._one_hot_clock.index_select(0, here * self.hours), zeros, zeros]
        return torch.cat([*head, meters, *tail], dim=1)

    def _tables(self, cells: CellMaps, shared: Tensor) -> tuple[Tensor, Tensor]:
        """Per cell of the layout ``shared`` of ``cells``: the grid fields ``[G*G, head]``
        and the observation of a just-reset agent ``[G*G, obs_dim]``."""
        if self._tables_of is not cells:
            every = torch.arange(self.grid_size**2, device=shared.device)
            maps = cells.grid[:1].expand(every.shape[0], -1)
            head = self._head(maps, every, torch.ones_like(maps[:, :1]))
            self._heads = torch.cat(head, dim=1)
            self._fresh = self._fresh_rows([self._heads], shared)
            self._tables_of = cells
        return self._heads, self._fresh

    def bounds(self) -> tuple[list[float], list[float]]:
        """Lowest and highest value of every observation element (for Gymnasium's Box)."""
        low: list[float] = []
        high: list[float] = []
        for field in self.layout.fields:
            if field.name == "temporal":  # sin, cos, interaction and lifetime progress
                low += [-1.0, -1.0, 0.0, 0.0]
                high += [1.0, 1.0, 1.0, 1.0]
                continue
            # A full grid reads 2.0 where the agent stands on an affordance.
            top = 2.0 if field.name == "grid" and self.vision_range is None else 1.0
            low += [0.0] * field.size
            high += [top] * field.size
        return low, high

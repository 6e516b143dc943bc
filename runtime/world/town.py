"""The town, vectorized: N independent agents stepped together with a few tensor ops.

Every agent has its own position, meters, episode counters, clock, multi-tick
progress and affordance layout; there are no collisions. Each step follows
townlet-facts §1.3 with the corrections of WORLD.md (see :meth:`TownWorld.step`).
An agent whose episode ended in death or retirement is frozen (no change, reward 0,
every action masked) until it is reset.

>>> world = TownWorld("L0_5_dual_resource", num_agents=4, seed=0)
>>> obs = world.reset()
>>> tuple(obs.shape), world.action_names[world.num_actions - 1]
((4, 76), 'WAIT')
>>> result = world.step(torch.full((4,), 5), depletion_multiplier=0.2)
>>> round(result.reward[0].item(), 5)
0.9936
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from hamlet.schemas import Pack, load_pack
from hamlet.schemas.layout import ObservationLayout, observation_layout

from .drains import PassiveDrains
from .observation import ObservationBuilder
from .placement import CellMaps, random_layouts
from .rules import ACTION_ROWS, FROZEN, REWARD_METERS, TerminalRules, TownRules, required_meter
from .state import StateTensor, StepResult, TownState


class TownWorld:
    """The town of a config pack, simulating ``num_agents`` independent agents at once.

    Every random choice (layouts and spawns) comes from :attr:`generator`, seeded with
    ``seed``: the same seed and the same actions give the same run. The agents are not
    in an episode until :meth:`reset`. The state tensors below are live (each step
    updates them in place) and may be edited between steps, in place or by assignment,
    e.g. to set up a situation by hand.
    """

    positions = StateTensor("``[N, 2]`` long: (x, y) of each agent; (0, 0) is the top-left.")
    meters = StateTensor("``[N, M]`` float32: the meters in :attr:`meter_names` order, in [0, 1].")
    alive = StateTensor("``[N]`` bool: in an episode (False after death or retirement).")
    step_count = StateTensor("``[N]`` long: steps taken in the current episode.")
    time_of_day = StateTensor("``[N]`` long: the agent's hour, 0..23 (0 without temporal).")
    interaction_progress = StateTensor("``[N]`` long: ticks done of the current interaction.")
    interaction_affordance = StateTensor("``[N]`` long: its vocabulary index, -1 if none.")
    affordance_positions = StateTensor(
        "``[N, K, 2]`` long: (x, y) of the K deployed affordances (vocabulary order) of each "
        "agent's layout, on K distinct cells."
    )

    def __init__(
        self,
        pack: Pack | str | Path,
        num_agents: int = 1,
        *,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ) -> None:
        if num_agents < 1:
            raise ValueError(f"num_agents must be at least 1, got {num_agents}")
        self.pack = pack if isinstance(pack, Pack) else load_pack(pack)
        """The config pack the town is built from."""
        env = self.pack.training.environment
        self.device = torch.device(device)
        self.num_agents = num_agents
        self.layout: ObservationLayout = observation_layout(self.pack)
        """Named fields of the observation vector, and the action names."""
        self.grid_size = env.grid_size
        self.temporal = env.temporal_mechanics
        """Whether the day clock, opening hours and multi-tick interactions are on."""
        self.agent_lifespan = env.agent_lifespan
        self.max_steps_per_episode = env.max_steps_per_episode
        self.per_episode_layout = env.affordance_layout == "per_episode"
        why = "the reward is health x energy (townlet-facts §3)"
        self._health, self._energy = (required_meter(self.pack, m, why) for m in REWARD_METERS)
        self.rules = TownRules.from_pack(self.pack, self.device)
        """The pack's rules as lookup tables."""
        self.terminal = TerminalRules.from_pack(self.pack, self.device)
        self.drains = PassiveDrains(self.pack, self.device)
        names = self.pack.meter_names
        self._money = names.index("money") if "money" in names else None
        self._vision = env.vision_range if env.observability == "partial" else None
        self.generator = torch.Generator(device=self.device)
        """The source of every random choice of the world."""

        def constant(value: int) -> Tensor:
            return torch.tensor(value, device=self.device)

        # 0-dim tensors: a Python number in a tensor op costs a conversion every step.
        vocabulary = self.rules.none + 1
        self._frozen, self._rows, self._vocab = map(constant, (FROZEN, ACTION_ROWS, vocabulary))
        self._none, self._minus_one, self._one, self._two = map(
            constant, (self.rules.none, -1, 1, 2)
        )
        self._grid, self._hours = constant(self.grid_size), constant(self.rules.hours)
        self._lifespan, self._max_steps = map(
            constant, (self.agent_lifespan, self.max_steps_per_episode)
        )
        by_name = {m.name: m.initial for m in self.pack.bars.meters}
        initial = torch.tensor([by_name[m] for m in names], dtype=torch.float32, device=self.device)
        self.state = TownState(num_agents, len(self.rules.deployed), initial, self.device)
        """The state tensors (the attributes above are views of them)."""
        self._observer = ObservationBuilder(
            self.layout,
            num_agents=num_agents,
            grid_size=self.grid_size,
            vision_range=self._vision,
            agent_lifespan=self.agent_lifespan,
            initial_meters=initial,
            hours=self.rules.hours,
            required_ticks=self.rules.required_ticks,
        )
        self._charges_at: tuple[float, Tensor] | None = None
        self._cell_offsets = torch.arange(num_agents, device=self.device) * self.grid_size**2
        """Where each agent's cells start in the flat cell maps."""
        self._cells: CellMaps | None = None
        self._cells_version = -1
        every = torch.arange(self.grid_size**2, device=self.device)
        self._cell_positions = torch.stack((every % self.grid_size, every // self.grid_size), 1)
        """``[G*G, 2]``: (x, y) of each flat cell."""
        self._located: tuple[tuple[int, ...], Tensor, Tensor, Tensor] | None = None
        self.seed(seed)

    # --- names and sizes -------------------------------------------------------

    @property
    def obs_dim(self) -> int:
        return self.layout.obs_dim

    @property
    def num_actions(self) -> int:
        return self.layout.num_actions

    @property
    def action_names(self) -> tuple[str, ...]:
        return self.layout.action_names

    @property
    def meter_names(self) -> tuple[str, ...]:
        return self.pack.meter_names

    @property
    def vocabulary(self) -> tuple[str, ...]:
        """Every affordance name, in observation one-hot order (deployed or not)."""
        return self.rules.vocabulary

    def affordance_layout(self, agent: int = 0) -> dict[str, tuple[int, int]]:
        """``{name: (x, y)}`` of the deployed affordances in ``agent``'s layout."""
        cells = self.state.layouts[agent].tolist()
        names = [self.vocabulary[i] for i in self.rules.deployed.tolist()]
        return {name: (x, y) for name, (x, y) in zip(names, cells, strict=True)}

    # --- seeding and resets ----------------------------------------------------

    def seed(self, seed: int) -> None:
        """Reseed the generator and redraw the construction-time layout from it.

        ``TownWorld(pack, n, seed=s)`` and a world reseeded with ``s`` behave the same.
        """
        self.generator.manual_seed(seed)
        self.state.layouts.copy_(self._draw_layouts(1).expand(self.num_agents, -1, -1))

    def _draw_layouts(self, count: int) -> Tensor:
        size, k = self.grid_size, len(self.rules.deployed)
        return random_layouts(count, k, size, self.generator, self.device)

    def reset(self, mask: Tensor | None = None, obs: Tensor | None = None) -> Tensor:
        """Start a new episode for every agent, or for those where ``mask [N]`` is True.

        A reset agent gets the initial meters, a uniform random cell, step count, clock
        and progress 0, and (with ``affordance_layout: per_episode``) a new layout.
        Returns the observations ``[N, obs_dim]`` of all agents. Given ``obs``, the
        current observations (e.g. the last step's ``result.obs``), only the rows of the
        reset agents are rebuilt, in place, and ``obs`` is returned: the cheap way to
        reset the few agents whose episode ended.
        """
        if mask is None:
            index: slice | Tensor = slice(None)
            count = self.num_agents
        else:
            index = mask.nonzero().squeeze(1)
            count = index.shape[0]
        cell = torch.randint(
            0, self.grid_size**2, (count,), generator=self.generator, device=self.device
        )
        self.state.restart(index, self._cell_positions.index_select(0, cell))
        if self.per_episode_layout:
            self.state.layouts[index] = self._draw_layouts(count)
        if obs is None or mask is None:
            return self.observe()
        return obs.index_copy_(0, index, self._observer.build_fresh(self._cell_maps(), cell, index))

    # --- the step --------------------------------------------------------------

    def step(self, actions: Tensor, depletion_multiplier: float | Tensor = 1.0) -> StepResult:
        """Advance every agent one step with ``actions [N]`` (indices of :attr:`action_names`).

        ``depletion_multiplier`` (a float >= 0, or ``[N]`` for per-agent curricula)
        scales the meters' base depletion. Order (townlet-facts §1.3): move; INTERACT
        uses the affordance under the agent if it is usable now and affordable (§1.5):
        instant effects, or a tick's costs, effects and completion bonus, then clamp;
        the action's configured costs (correction 5; for INTERACT with the affordance's
        instant costs, after its effects), with base depletion, then clamp; modulations
        and cascades; death check; step count and retirement; reward; clock;
        observation. Invalid actions are harmless: a move into the border leaves the
        agent in place and an INTERACT with nothing usable does nothing, but both pay
        their action costs. Agents not in an episode ignore their action (may be -1).
        """
        rules, cells, live = self.rules, self._cell_maps(), self.state.alive
        cell = self._locate(cells)[0]
        acted = torch.where(live, torch.as_tensor(actions, device=self.device), self._frozen)

        # Move: the tables know, per cell, where each action leads (the border blocks).
        key = torch.addcmul(acted, cell, self._rows)
        self.state.positions.add_(rules.displacement.index_select(0, key))
        cell = rules.next_cell.take(key)
        here = self._here(cells, cell)
        hour_key = self._hour_key(here)

        # The meters are computed meter-major ([M, N]): each operation then runs along
        # the agents instead of eight meters at a time, which is much faster.
        before = self.state.meters.T.contiguous()

        # Use what is under the agent: INTERACT on an affordance usable now and affordable.
        used = rules.uses.take(torch.addcmul(acted, hour_key, self._rows))
        if self._money is not None:
            used &= before[self._money] >= rules.money_needed.take(here)
        row = torch.where(used, here, self._none)
        gain_row = self._tick(used, here, row, rules.moved.take(key)) if self.temporal else row
        meters = (before + rules.gains.index_select(1, gain_row)).clamp_(0.0, 1.0)
        charges, depletion = self._charges(depletion_multiplier)
        meters.sub_(charges.index_select(1, torch.addcmul(row, acted, self._vocab)))
        if depletion is not None:
            meters.sub_(depletion)
        self.drains.cascade_(meters.clamp_(0.0, 1.0))
        meters = torch.where(live, meters, before, out=before)
        self.state.meters.copy_(meters.T)

        # Death, retirement and the step limit; died and retired both imply live.
        died = live & self.terminal.dead(meters)
        steps = self.state.step_count.add_(live)
        retired = live & (steps >= self._lifespan)
        done = died | retired
        still = live ^ done
        truncated = still & (steps >= self._max_steps)
        reward = (meters[self._health] * meters[self._energy]).mul_(live ^ died).add_(retired)
        if self.temporal:
            self.state.time_of_day.add_(live).remainder_(self._hours)
            hour_key = self._hour_key(here)
        self.state.alive.copy_(still)
        self._located = (self._location_versions(), cell, here, hour_key)
        obs = self._observe(cells, cell, hour_key)
        interactions = torch.where(used, here, self._minus_one)
        return StepResult(obs, reward, done, truncated, died, retired, interactions)

    def _tick(self, used: Tensor, here: Tensor, row: Tensor, moved: Tensor) -> Tensor:
        """Advance multi-tick progress (§1.5) in place; the key of each agent's gains (a
        tick's, or a last tick's with the completion bonus)."""
        progress, current = self.state.progress, self.state.current
        ticks = torch.where(used & (here == current), progress + self._one, self._one)
        last = used & (ticks >= self.rules.required_ticks.take(here))
        # Moving away or finishing forgets the interaction; WAIT and an INTERACT that
        # fails (no money, closed) keep it, so the agent can resume.
        forget = moved | last
        torch.where(used, ticks, progress, out=progress).masked_fill_(forget, 0)
        torch.where(used, here, current, out=current).masked_fill_(forget, -1)
        return torch.addcmul(row, last, self._vocab)

    def _charges(self, multiplier: float | Tensor) -> tuple[Tensor, Tensor | None]:
        """The charge table, and the base depletion if not folded into it."""
        if isinstance(multiplier, Tensor) and multiplier.dim() == 1:
            if multiplier.shape != (self.num_agents,):
                raise ValueError(
                    f"depletion_multiplier has shape {list(multiplier.shape)}, "
                    f"expected a float or [{self.num_agents}]"
                )
            return self.rules.charges, self.drains.base_depletion * multiplier
        value = float(multiplier)
        if value < 0:
            raise ValueError(f"depletion_multiplier must be >= 0, got {value}")
        # Charges and depletion are subtracted together: fold them into one table, kept
        # for as long as the multiplier (a curriculum stage) stays the same.
        if self._charges_at is None or self._charges_at[0] != value:
            folded = self.rules.charges + self.drains.base_depletion * value
            self._charges_at = (value, folded)
        return self._charges_at[1], None

    # --- what the agents see and may do ----------------------------------------

    def observe(self) -> Tensor:
        """The observations ``[N, obs_dim]`` of the current state (what step/reset return)."""
        cells = self._cell_maps()
        cell, _, hour_key = self._locate(cells)
        return self._observe(cells, cell, hour_key)

    def _observe(self, cells: CellMaps, cell: Tensor, hour_key: Tensor) -> Tensor:
        return self._observer.build(
            cells=cells,
            cell=cell,
            hour_key=hour_key,
            meters=self.state.meters,
            progress=self.state.progress,
            current=self.state.current,
            step_count=self.state.step_count,
        )

    def observation_bounds(self) -> tuple[list[float], list[float]]:
        """Lowest and highest possible value of each observation element."""
        return self._observer.bounds()

    def action_mask(self) -> Tensor:
        """``[N, 6]`` bool, True where an action is valid now (townlet-facts §1.6).

        A move is valid unless it would leave the grid; INTERACT only on a deployed
        affordance (open at the agent's hour, with temporal mechanics); WAIT always.
        Affordability is deliberately not checked. Agents not in an episode: all False.
        """
        cell, _, hour_key = self._locate(self._cell_maps())
        key = torch.addcmul(self.rules.usable.take(hour_key), cell, self._two)
        return self.rules.mask.index_select(0, torch.addcmul(self.state.alive, key, self._two))

    def _hour_key(self, here: Tensor) -> Tensor:
        if self.rules.hours == 1:
            return here
        return torch.addcmul(self.state.time_of_day, here, self._hours)

    def _location_versions(self) -> tuple[int, ...]:
        return (self.state.positions._version, self.state.counters._version, self._cells_version)

    def _located_is_current(self) -> bool:
        return self._located is not None and self._located[0] == self._location_versions()

    def _locate(self, cells: CellMaps) -> tuple[Tensor, Tensor, Tensor]:
        """Each agent's flat cell, the vocabulary index under it and its hour key."""
        if not self._located_is_current():
            x, y = self.state.positions.unbind(1)
            cell = torch.addcmul(x, y, self._grid)
            here = self._here(cells, cell)
            self._located = (self._location_versions(), cell, here, self._hour_key(here))
        return self._located[1:]

    def _cell_maps(self) -> CellMaps:
        layouts = self.state.layouts
        if self._cells is None or layouts._version != self._cells_version:
            self._cells = CellMaps.build(
                layouts, self.rules.deployed, self.grid_size, self.rules.none, self._vision
            )
            self._cells_version = layouts._version
        return self._cells

    def _here(self, cells: CellMaps, cell: Tensor) -> Tensor:
        """The vocabulary index of what is on each agent's ``cell`` (``none`` if empty)."""
        if cells.shared is not None:
            return cells.shared.take(cell)
        return cells.vocab.take(cell + self._cell_offsets)

    # --- saving and restoring --------------------------------------------------

    def state_dict(self) -> dict[str, Tensor]:
        """Copies of every state tensor and the generator state (:data:`STATE_KEYS`), for an
        exact resume."""
        return self.state.state_dict(self.generator)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` of a world of the same pack and number of agents."""
        self.state.load_state_dict(state, self.generator)

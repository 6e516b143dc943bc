"""A hand-written policy: the yardstick that says what "competent" looks like in a pack.

Every step, every agent scores each affordance of its town by what using it would do
for the agent now, and heads for the best one:

* **need.** A meter's need grows as the meter falls: ``weight * (1 - value) ** 2``.
  Meters whose fall kills (energy and health) weigh most. Meters that drain others
  through cascades weigh less. Money is needed while the agent holds less than
  :data:`MONEY_WANTED`.
* **worth.** An affordance is worth the sum, over meters, of need times what one whole
  use changes. Gains count only up to what the meter has room for. Losses count in
  full, so the Bar's energy bill weighs against its company. Each step of the way there
  costs a little.
* **can.** An affordance the agent cannot pay for is out. So is one that will be closed
  when the agent arrives, where opening hours apply.

The agent walks straight to the best affordance (the longer axis first) and interacts
there. At a place that is still closed, it waits. An interaction under way (multi-tick)
goes on until it completes. When nothing is worth the walk, the agent waits, which
costs the least energy. Working at the Job is the same rule: money is a need like
the others.

It sees the true world state: the meters, its position, where every affordance stands
and the hour. Under partial observability (L2, L3) that is more than a trained agent
sees.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .rules import INTERACT
from .town import TownWorld

WAIT = 5
UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3

WEIGHTS = {"energy": 4.0, "health": 4.0, "satiation": 2.0, "mood": 1.5, "fitness": 1.0,
           "hygiene": 1.0, "social": 1.0}  # fmt: skip
"""How much each meter's need counts (meters not named here: 1)."""
MONEY_WANTED = 0.5
"""Money the agent likes to hold (0.5 = $50: several purchases ahead)."""
MONEY_WEIGHT = 2.0
STEP_COST = 0.002
"""Worth lost per step of walking to an affordance."""
EFFICIENT = 0.9
"""An affordance is used only when this much of what it gives fits in the meters..."""
CRITICAL = 0.2
"""...unless a meter (money aside) is below this."""


class HeuristicPolicy:
    """The rule above, for every agent of ``world`` at once (vectorized, on its device)."""

    def __init__(self, world: TownWorld) -> None:
        self.world = world
        rules, device = world.rules, world.device
        self.deployed = rules.deployed  # [K] vocabulary indices
        names = world.meter_names
        self.weights = torch.tensor([WEIGHTS.get(name, 1.0) for name in names], device=device)
        self.money = names.index("money") if "money" in names else None
        if self.money is not None:
            self.weights[self.money] = 0.0  # money's need has its own shape
        self.effect, self.price = self._uses(world)  # [M, K], [K]
        self.hours = rules.hours

    @staticmethod
    def _uses(world: TownWorld) -> tuple[Tensor, Tensor]:
        """What one whole use of each deployed affordance changes ``[M, K]``, costs
        included, and the money it takes to start it ``[K]``."""
        rules, k = world.rules, world.rules.deployed
        rows = rules.none + 1
        if world.temporal:
            ticks = rules.required_ticks.index_select(0, k).float()
            per_tick, last = rules.gains.index_select(1, k), rules.gains.index_select(1, k + rows)
            effect = per_tick * (ticks - 1) + last
            price = rules.money_needed.index_select(0, k) * ticks
        else:
            paid = rules.charges.index_select(1, INTERACT * rows + k)
            effect = rules.gains.index_select(1, k) - paid
            price = rules.money_needed.index_select(0, k)
        return effect, price

    def __call__(self, obs: Tensor, mask: Tensor, hidden: object) -> tuple[Tensor, object]:
        world = self.world
        meters = world.meters  # [N, M]
        here = world.positions  # [N, 2]
        cells = world.affordance_positions  # [N, K, 2]
        offset = cells - here[:, None, :]  # [N, K, 2]
        distance = offset.abs().sum(-1)  # [N, K]

        # --- worth of each affordance to each agent ------------------------------------
        need = self.weights * (1.0 - meters).clamp(min=0.0) ** 2  # [N, M]
        if self.money is not None:
            short = (MONEY_WANTED - meters[:, self.money]).clamp(min=0.0) / MONEY_WANTED
            need[:, self.money] = MONEY_WEIGHT * short
        room = 1.0 - meters  # [N, M]
        effect = self.effect.T[None]  # [1, K, M]
        change = torch.minimum(effect, room[:, None, :])  # [N, K, M]
        worth = (change * need[:, None, :]).sum(-1) - STEP_COST * distance
        # Not while most of what it gives would be wasted, unless a meter is critical.
        gained = change.clamp(min=0.0).sum(-1) / effect.clamp(min=0.0).sum(-1).clamp(min=1e-6)
        critical = (
            (meters < CRITICAL).any(-1, keepdim=True)
            if self.money is None
            else ((meters < CRITICAL) & (self.weights > 0)).any(-1, keepdim=True)
        )
        worth = worth.masked_fill((gained < EFFICIENT) & ~critical, float("-inf"))

        # --- what the agent can do: pay, and find it open on arrival ------------------
        possible = torch.ones_like(worth, dtype=torch.bool)
        if self.money is not None:
            possible &= meters[:, self.money, None] >= self.price[None]
        if self.hours > 1:
            arrival = (world.time_of_day[:, None] + distance) % self.hours
            key = self.deployed[None] * self.hours + arrival
            possible &= self.world.rules.usable.take(key).bool()
        worth = worth.masked_fill(~possible, float("-inf"))
        best, target = worth.max(-1)  # [N]

        # --- the action that brings the agent there, or uses it -----------------------
        step = offset.gather(1, target[:, None, None].expand(-1, 1, 2)).squeeze(1)  # [N, 2]
        dx, dy = step.unbind(-1)
        horizontal = torch.where(dx > 0, RIGHT, LEFT)
        vertical = torch.where(dy > 0, DOWN, UP)
        move = torch.where(dx.abs() >= dy.abs(), horizontal, vertical)
        arrived = (dx == 0) & (dy == 0)
        action = torch.where(arrived, torch.where(mask[:, INTERACT], INTERACT, WAIT), move)
        action = torch.where(best > 0, action, WAIT)
        # an interaction under way goes on while it can
        busy = (world.interaction_progress > 0) & mask[:, INTERACT]
        action = torch.where(busy, INTERACT, action)
        return action, None

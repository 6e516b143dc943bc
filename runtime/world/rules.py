"""The town's rules as tensors: a config pack compiled once, read on every step.

Everything the step needs from the YAML files is turned into small lookup tables,
so that a step is a fixed, small number of tensor operations whatever the number of
agents (on a CPU each operation costs several microseconds of overhead, so the
count matters more than the arithmetic). Meter tables are *meter-major*
(``[M, rows]``), like the meters inside a step (``[M, N]``): an operation then runs
along the agents, the long contiguous axis, instead of eight meters at a time.

Affordance tables are indexed by *vocabulary index* (the order of affordances.yaml,
which is also the observation one-hot order) and have one extra last row,
:attr:`TownRules.none`, for "no affordance here": its effects are zero and it is
never usable, so "index the table with what is under the agent" needs no special
case for empty cells. Tables that depend on the hour are indexed by an *hour key*,
``vocabulary_index * hours + hour``, where ``hours`` is 24 with temporal mechanics
and 1 without (hours do not matter then, and the clock stays at 0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from hamlet.schemas import Pack
from hamlet.schemas.errors import Diagnostic, SpecError
from hamlet.schemas.layout import ACTION_NAMES

HOURS_PER_DAY = 24
"""One step is one hour in temporal mode; the clock wraps at this value."""

INTERACT = ACTION_NAMES.index("INTERACT")
FROZEN = len(ACTION_NAMES)
"""Row of the action tables used for agents not in an episode: no move, no cost."""
ACTION_ROWS = FROZEN + 1

_MOVES = {"UP": (0, -1), "DOWN": (0, 1), "LEFT": (-1, 0), "RIGHT": (1, 0)}
"""(dx, dy) of each move; (0, 0) is the top-left cell and y grows downwards."""

_COMPARISONS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "<=": torch.le,
    "<": torch.lt,
    ">=": torch.ge,
    ">": torch.gt,
    "==": torch.eq,
}

REWARD_METERS = ("health", "energy")
"""The per-step reward is the product of these meters (townlet-facts §3)."""


def meter_vector(amounts: Mapping[str, float], meters: Sequence[str]) -> list[float]:
    """``amounts`` (meter name -> amount) as a dense list in tensor order."""
    return [float(amounts.get(name, 0.0)) for name in meters]


@dataclass(frozen=True)
class TownRules:
    """Movement, masks, interactions and meter changes as lookup tables.

    Keys: ``cell * ACTION_ROWS + action`` (movement), ``hour_key * ACTION_ROWS + action``
    (what an action uses), ``action * (A+1) + row`` (meter charges, where ``row`` is the
    vocabulary index of the affordance used, or ``none``).
    """

    vocabulary: tuple[str, ...]
    """Every affordance of affordances.yaml, in one-hot order."""
    deployed: Tensor
    """``[K]`` long: vocabulary indices of the affordances placed on the grid."""
    hours: int
    """Hours per day of the hour key: 24 with temporal mechanics, else 1."""
    next_cell: Tensor
    """``[G*G*7]`` long: the cell an action leads to (the same cell when the border blocks)."""
    displacement: Tensor
    """``[G*G*7, 2]`` long: the (dx, dy) an action actually makes."""
    moved: Tensor
    """``[G*G*7]`` bool: whether the action changes the agent's cell."""
    mask: Tensor
    """``[G*G*4, 6]`` bool, keyed ``(cell * 2 + usable) * 2 + alive``: the action mask on
    ``cell``, where ``usable`` says whether INTERACT can use what is there now."""
    usable: Tensor
    """``[(A+1) * hours]`` long (0/1) by hour key: whether INTERACT can use the affordance
    then. Affordances that are not deployed, or lack the mode's behaviour, never are."""
    uses: Tensor
    """``[(A+1) * hours * 7]`` bool: whether the action uses the affordance (an INTERACT
    on a usable one), before the money check."""
    money_needed: Tensor
    """``[A+1]`` float: money an agent must hold to use it (its money cost per use/tick)."""
    gains: Tensor
    """``[M, A+1]`` (instant: the effects) or ``[M, 2(A+1)]`` (multi-tick: a tick's effects
    minus its costs, then the same plus the completion bonus, keyed ``row + last * (A+1)``):
    added to the meters, then clamped."""
    charges: Tensor
    """``[M, 7 * (A+1)]``: the action's configured costs plus, in instant mode, the costs of
    the affordance used; subtracted after the gains, with base depletion, then clamped."""
    required_ticks: Tensor
    """``[A+1]`` long: ticks of one use (1 for the none row and in instant mode)."""

    @property
    def none(self) -> int:
        """Index of the "no affordance" row, equal to the one-hot's "none" slot."""
        return len(self.vocabulary)

    @classmethod
    def from_pack(cls, pack: Pack, device: torch.device) -> TownRules:
        env = pack.training.environment
        temporal = env.temporal_mechanics
        meters = pack.meter_names
        zeros = [0.0] * len(meters)
        hours = range(HOURS_PER_DAY) if temporal else range(1)
        deployed = {a.name for a in pack.deployed_affordances}
        usable, money, effects, costs, ticks = [], [], [], [], []
        tick_delta, tick_bonus = [], []
        for affordance in pack.affordances.affordances:
            once, multi = affordance.instant, affordance.multi_tick
            behaviour = multi if temporal else once
            active = affordance.name in deployed and behaviour is not None
            usable += [active and (not temporal or affordance.is_open(h)) for h in hours]
            effects.append(meter_vector(once.effects, meters) if once is not None else zeros)
            costs.append(meter_vector(once.costs, meters) if once is not None else zeros)
            if multi is not None:
                gain = meter_vector(multi.effects_per_tick, meters)
                paid = meter_vector(multi.costs_per_tick, meters)
                bonus = meter_vector(multi.completion_bonus, meters)
                tick_delta.append([g - p for g, p in zip(gain, paid, strict=True)])
                tick_bonus.append([d + b for d, b in zip(tick_delta[-1], bonus, strict=True)])
            else:
                tick_delta.append(zeros)
                tick_bonus.append(zeros)
            ticks.append(multi.required_ticks if multi is not None and temporal else 1)
            price = {} if behaviour is None else (multi.costs_per_tick if temporal else once.costs)
            money.append(float(price.get("money", 0.0)))
        usable += [False] * len(hours)
        money.append(0.0)
        for table in (effects, costs, tick_delta, tick_bonus):
            table.append(zeros)
        ticks.append(1)

        action_costs = env.action_costs
        per_action = [meter_vector(action_costs.move, meters)] * len(_MOVES)
        per_action += [
            meter_vector(action_costs.interact, meters),
            meter_vector(action_costs.wait, meters),
            zeros,  # FROZEN
        ]
        paid = costs if not temporal else [zeros] * len(costs)
        charges = [
            [a + c for a, c in zip(action, row, strict=True)]
            for action in per_action
            for row in paid
        ]
        uses = [ok and action == INTERACT for ok in usable for action in range(ACTION_ROWS)]

        def floats(rows: list) -> Tensor:
            return torch.tensor(rows, dtype=torch.float32, device=device)

        def meter_major(rows: list) -> Tensor:
            return floats(rows).T.contiguous()

        vocabulary = pack.affordance_names
        moves = _movement(env.grid_size, device)
        return cls(
            vocabulary=vocabulary,
            deployed=torch.tensor(
                [vocabulary.index(a.name) for a in pack.deployed_affordances],
                dtype=torch.long,
                device=device,
            ),
            hours=len(hours),
            **moves,
            usable=torch.tensor(usable, dtype=torch.long, device=device),
            uses=torch.tensor(uses, dtype=torch.bool, device=device),
            money_needed=floats(money),
            gains=meter_major(tick_delta + tick_bonus if temporal else effects),
            charges=meter_major(charges),
            required_ticks=torch.tensor(ticks, dtype=torch.long, device=device),
        )


def _movement(size: int, device: torch.device) -> dict[str, Tensor]:
    """The movement and mask tables of a ``size x size`` grid (see :class:`TownRules`)."""
    steps = [*_MOVES.values(), (0, 0), (0, 0), (0, 0)]
    displacement, masks = [], []
    for y in range(size):
        for x in range(size):
            allowed = [0 <= x + dx < size and 0 <= y + dy < size for dx, dy in steps]
            displacement += [
                (dx, dy) if ok else (0, 0) for (dx, dy), ok in zip(steps, allowed, strict=True)
            ]
            masks += [
                [alive and ok for ok in [*allowed[:4], usable, True]]
                for usable in (False, True)
                for alive in (False, True)
            ]
    displacement_t = torch.tensor(displacement, dtype=torch.long, device=device)
    shift = displacement_t[:, 1] * size + displacement_t[:, 0]
    cells = torch.arange(size * size, device=device).repeat_interleave(ACTION_ROWS)
    return {
        "next_cell": cells + shift,
        "displacement": displacement_t,
        "moved": shift != 0,
        "mask": torch.tensor(masks, dtype=torch.bool, device=device),
    }


@dataclass(frozen=True)
class TerminalRules:
    """The death conditions of bars.yaml, grouped by comparison so each group is one op."""

    groups: tuple[tuple[Callable[[Tensor, Tensor], Tensor], Tensor, Tensor], ...]
    """``(compare, meter indices [C], values [C, 1])`` per comparison operator."""

    @classmethod
    def from_pack(cls, pack: Pack, device: torch.device) -> TerminalRules:
        meters = pack.meter_names
        by_op: dict[str, list[tuple[int, float]]] = {}
        for condition in pack.bars.terminal:
            by_op.setdefault(condition.op, []).append(
                (meters.index(condition.meter), condition.value)
            )
        groups = tuple(
            (
                _COMPARISONS[op],
                torch.tensor([i for i, _ in pairs], dtype=torch.long, device=device),
                torch.tensor([[v] for _, v in pairs], dtype=torch.float32, device=device),
            )
            for op, pairs in by_op.items()
        )
        return cls(groups)

    def dead(self, meters: Tensor) -> Tensor:
        """``[N]`` bool: whether any death condition holds for each agent of ``meters [M, N]``."""
        dead = None
        for compare, index, value in self.groups:
            hit = compare(meters.index_select(0, index), value).any(dim=0)
            dead = hit if dead is None else dead | hit
        if dead is None:
            return torch.zeros(meters.shape[1], dtype=torch.bool, device=meters.device)
        return dead


def required_meter(pack: Pack, name: str, why: str) -> int:
    """Tensor column of the meter ``name``, or a :class:`SpecError` saying why it is needed."""
    if name in pack.meter_names:
        return pack.meter_names.index(name)
    raise SpecError(
        Diagnostic(
            "E140",
            f"bars.yaml defines no '{name}' meter, which the town needs: {why}",
            hint=f"add a meter named '{name}' to bars.yaml (the shipped packs have one)",
            file=str(pack.directory / "bars.yaml"),
            path="meters",
        )
    )

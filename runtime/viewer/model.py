"""What the viewer knows: the world from the ``hello`` and the episodes, step by step.

Messages arrive as plain dicts (see ``schemas/stream.schema.json``). These small wrappers
read them once, so that drawing a step is a handful of list look-ups and never a scan
over the episode: the viewer redraws many times a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import Any


@dataclass(frozen=True)
class World:
    """The town as the ``hello`` describes it: the names every row of a step is ordered by."""

    grid_size: int
    meters: tuple[str, ...]
    actions: tuple[str, ...]
    symbols: dict[str, str]
    temporal: bool
    max_steps: int
    stages: int
    source: str = "training"
    pack: str = ""

    @classmethod
    def from_hello(cls, hello: dict[str, Any]) -> World:
        """Read a ``hello`` message; its ``world`` and ``run`` objects are the contract."""
        world = hello["world"]
        return cls(
            grid_size=int(world["grid_size"]),
            meters=tuple(world["meters"]),
            actions=tuple(world["actions"]),
            symbols={a["name"]: a["symbol"] for a in world["affordances"]},
            temporal=bool(world["temporal"]),
            max_steps=int(world["max_steps"]),
            stages=int(world["stages"]),
            source=str(hello.get("source", "training")),
            pack=str(hello.get("run", {}).get("pack", "")),
        )

    @classmethod
    def infer(cls, episode: dict[str, Any]) -> World:
        """Guess a world from an episode, for a source that forgot its ``hello``.

        Names are made up (``meter 0``, ``action 0``, the affordance's first letter), so the
        episode can still be watched rather than dropped.
        """
        steps = episode["steps"]
        cells = [*steps["position"], *episode["affordances"].values()]
        meters = len(steps["meters"][0]) if steps["meters"] else 0
        actions = len(steps["q_values"][0]) if steps["q_values"] else 1
        return cls(
            grid_size=max((max(x, y) for x, y in cells), default=0) + 1,
            meters=tuple(f"meter {i}" for i in range(meters)),
            actions=tuple(f"action {i}" for i in range(actions)),
            symbols={name: name[0] for name in episode["affordances"]},
            temporal=steps["time_of_day"] is not None,
            max_steps=max(int(episode["survival"]), 1),
            stages=max(int(episode["stage"]), 1),
            source="unknown",
        )


@dataclass(frozen=True)
class Step:
    """One step of an episode, every column read at the same index."""

    index: int
    position: tuple[int, int]
    meters: list[float]
    action: int
    q_values: list[float]
    action_mask: list[bool]
    epsilon: float
    reward: float
    done: bool
    cumulative_reward: float
    cumulative_intrinsic: float
    time_of_day: int | None
    interaction_progress: float | None


class Episode:
    """A received ``episode`` message, with running reward sums computed once."""

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message
        self.columns: dict[str, Any] = message["steps"]
        self.length = len(self.columns["step"])
        self.cumulative_reward = list(accumulate(self.columns["reward"]))
        self.cumulative_intrinsic = list(accumulate(self.columns["intrinsic_reward"]))

    @property
    def number(self) -> int:
        """The run's episode number (0-based, over all agents)."""
        return int(self.message["episode"])

    @property
    def survival(self) -> int:
        """Steps survived, as the source reports it."""
        return int(self.message["survival"])

    @property
    def affordances(self) -> dict[str, tuple[int, int]]:
        """Where each placed affordance stood, by name."""
        return {name: (cell[0], cell[1]) for name, cell in self.message["affordances"].items()}

    @property
    def last_index(self) -> int:
        """Index of the final step (``-1`` for an empty episode, which has nothing to show)."""
        return self.length - 1

    def step(self, index: int) -> Step:
        """The state after step ``index`` and what the agent chose it from."""
        c = self.columns
        x, y = c["position"][index]
        return Step(
            index=index,
            position=(x, y),
            meters=c["meters"][index],
            action=c["action"][index],
            q_values=c["q_values"][index],
            action_mask=c["action_mask"][index],
            epsilon=c["epsilon"][index],
            reward=c["reward"][index],
            done=c["done"][index],
            cumulative_reward=self.cumulative_reward[index],
            cumulative_intrinsic=self.cumulative_intrinsic[index],
            time_of_day=_column_entry(c["time_of_day"], index),
            interaction_progress=_column_entry(c["interaction_progress"], index),
        )


def _column_entry(column: list[Any] | None, index: int) -> Any:
    """A nullable column (temporal worlds only) read at ``index``."""
    return None if column is None else column[index]


def evaluation_points(stats: dict[str, Any]) -> list[tuple[int, float]]:
    """``(episode, mean survival)`` of a ``stats`` message's evaluations, oldest first;
    entries that are not of that shape are left out (the chart draws what it can)."""
    points = []
    for entry in stats.get("evaluations") or ():
        try:
            points.append((int(entry["episode"]), float(entry["survival"])))
        except (TypeError, KeyError, ValueError):
            continue
    return points

"""Recording what one watched agent does, step by step, for viewers and for disk.

An :class:`EpisodeRecorder` keeps, for the watched agent, one row of numbers per step
(the state after the step, and the Q-values and action mask the action was chosen
from: WORLD.md correction 8). When the agent's episode ends it turns the rows into an
*episode message* of ``schemas/stream.schema.json`` (columns, not rows: compact on the
wire and on disk) and hands it to its ``live_stream_callback``, whose failures are
logged and never reach training. Which episodes are kept on disk, and how, is
:mod:`.recordings`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.world import TownWorld

log = logging.getLogger(__name__)

Message = dict[str, Any]
PROTOCOL = 1


def affordance_symbols(names: Iterable[str]) -> dict[str, str]:
    """A distinct one-character symbol per name: its initial if free, else another of its
    capitals or letters, else a digit (``Bed -> B``, ``LuxuryBed -> L``, ``Bar -> A``)."""
    symbols: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        capitals = [c for c in name if c.isupper()]
        letters = [c.upper() for c in name if c.isalpha()] + [c.lower() for c in name]
        fallback = [*"0123456789", *"abcdefghijklmnopqrstuvwxyz"]
        symbol = next(c for c in [*capitals, *letters, *fallback] if c not in taken)
        symbols[name] = symbol
        taken.add(symbol)
    return symbols


def hello_message(
    world: TownWorld,
    *,
    source: str,
    pack: str,
    run_dir: str | None = None,
    seed: int | None = None,
    agents: int | None = None,
    model: str | None = None,
) -> Message:
    """The first message of every stream: the world's shape and where episodes come from."""
    symbols = affordance_symbols(world.vocabulary)
    return {
        "type": "hello",
        "protocol": PROTOCOL,
        "source": source,
        "run": {"pack": pack, "run_dir": run_dir, "seed": seed, "agents": agents, "model": model},
        "world": {
            "grid_size": world.grid_size,
            "meters": list(world.meter_names),
            "actions": list(world.action_names),
            "affordances": [{"name": n, "symbol": s} for n, s in symbols.items()],
            "temporal": bool(world.temporal),
            "max_steps": world.max_steps_per_episode,
            "stages": len(world.pack.training.curriculum.stages),
        },
    }


class EpisodeRecorder:
    """Collects every step of one agent's episodes and emits each finished episode.

    A step costs a few tensor operations (the training loop pays them): three rows
    (integers, floats, flags) copied from live views of the world's state and from the
    step's tensors. Everything else (splitting into columns, interaction progress, the
    intrinsic reward of the whole episode in one batch) waits for the episode's end.
    """

    def __init__(
        self,
        world: TownWorld,
        *,
        agent: int = 0,
        live_stream_callback: Callable[[Message], Any] | None = None,
        keep: bool = False,
    ) -> None:
        self.world = world
        self.agent = agent
        self.live_stream_callback = live_stream_callback
        self.callback_errors = 0
        self.keep = keep
        self.finished: list[Message] = []
        """With ``keep``: the finished episodes not yet taken (:meth:`take_finished`)."""
        self._partial = False
        i = agent
        # live views of the watched agent's state (the world updates them in place)
        self._integer_state = (
            world.positions[i],
            world.time_of_day[i : i + 1],
            world.interaction_progress[i : i + 1],
            world.interaction_affordance[i : i + 1],
        )
        self._meters = world.meters[i]
        self._integers: list[Tensor] = []  # x y hour ticks current action interaction
        self._floats: list[Tensor] = []  # meters q reward next_obs
        self._flags: list[Tensor] = []  # mask done
        self._epsilons: list[float] = []

    def record_step(
        self,
        action_mask: Tensor,
        actions: Tensor,
        q_values: Tensor,
        reward: Tensor,
        done: Tensor,
        epsilon: float,
        next_obs: Tensor | None = None,
        interactions: Tensor | None = None,
    ) -> None:
        """Call after ``world.step`` (and before any reset) with the step's tensors for all
        agents: the mask and Q-values the actions were chosen from, the world's reward,
        whether the episode ended, the observations after the step (for the intrinsic
        reward) and the world's ``StepResult.interactions``."""
        i = self.agent
        # joined mid-episode (a resumed run): that episode is partial (a read from the
        # device, once per episode)
        if not self._epsilons:
            self._partial = int(self.world.step_count[i]) != 1
        used = interactions[i : i + 1] if interactions is not None else actions.new_full((1,), -1)
        self._integers.append(torch.cat((*self._integer_state, actions[i : i + 1], used)))
        floats = [self._meters, q_values[i], reward[i : i + 1]]
        if next_obs is not None:
            floats.append(next_obs[i])
        self._floats.append(torch.cat(floats))
        self._flags.append(torch.cat((action_mask[i], done[i : i + 1])))
        self._epsilons.append(epsilon)

    def finish_episode(
        self, novelty: Callable[[Tensor], Tensor] | None = None, **metadata: Any
    ) -> Message | None:
        """The episode message of the steps recorded since the last call; ``metadata``
        gives episode, stage, multiplier, epsilon, intrinsic_weight and outcome, and
        ``novelty`` maps next observations to weighted intrinsic rewards (batched, as the
        exploration stands when the episode ends). None for an episode the recorder did
        not see from its first step."""
        epsilons, partial = self._epsilons, self._partial
        steps = (self._integers, self._floats, self._flags)
        self._integers, self._floats, self._flags, self._epsilons = [], [], [], []
        self._partial = False
        if partial or not epsilons:
            return None
        integers, floats, flags = (torch.stack(rows) for rows in steps)
        message = self._message(integers, floats, flags, epsilons, novelty, metadata)
        if self.keep:
            self.finished.append(message)
        if self.live_stream_callback is not None:
            try:
                self.live_stream_callback(message)
            except Exception:  # a viewer's problem must never stop training
                self.callback_errors += 1
                log.exception("live stream callback failed on episode %s", message["episode"])
        return message

    def _message(
        self,
        integers: Tensor,
        floats: Tensor,
        flags: Tensor,
        epsilons: list[float],
        novelty: Callable[[Tensor], Tensor] | None,
        metadata: dict[str, Any],
    ) -> Message:
        world = self.world
        m, a = len(world.meter_names), world.num_actions
        meters, q, reward = floats[:, :m], floats[:, m : m + a], floats[:, m + a]
        next_obs = floats[:, m + a + 1 :]
        hour, ticks, current, action, used = integers[:, 2:].unbind(1)
        intrinsic = novelty(next_obs) if novelty is not None and next_obs.shape[1] else reward * 0
        temporal = bool(world.temporal)
        progress = (
            (ticks / world.rules.required_ticks.take(current)).clamp(0, 1)
            if temporal
            else torch.zeros_like(reward)
        )

        def rounded(values: Tensor, digits: int = 4) -> list[Any]:
            return values.double().mul(10**digits).round().div(10**digits).tolist()

        return {
            "type": "episode",
            "episode": int(metadata["episode"]),
            "agent": self.agent,
            "stage": int(metadata["stage"]),
            "multiplier": float(metadata["multiplier"]),
            "epsilon": float(metadata["epsilon"]),
            "intrinsic_weight": float(metadata["intrinsic_weight"]),
            "outcome": metadata["outcome"],
            "survival": len(epsilons),
            "reward": round(float(reward.double().sum()), 4),
            "intrinsic_reward": round(float(intrinsic.double().sum()), 4),
            "finished_at": time.time(),
            "affordances": {k: list(v) for k, v in world.affordance_layout(self.agent).items()},
            "visits": self._visits(used.tolist(), progress.tolist()),
            "steps": {
                "step": list(range(len(epsilons))),
                "position": integers[:, :2].tolist(),
                "meters": rounded(meters),
                "action": action.tolist(),
                "reward": rounded(reward),
                "intrinsic_reward": rounded(intrinsic),
                "done": flags[:, a].tolist(),
                "q_values": rounded(q),
                "epsilon": [round(e, 6) for e in epsilons],
                "action_mask": flags[:, :a].tolist(),
                "time_of_day": hour.tolist() if temporal else None,
                "interaction_progress": rounded(progress) if temporal else None,
            },
        }

    def take_finished(self) -> list[Message]:
        """The finished episodes kept since the last call (``keep=True``)."""
        taken, self.finished = self.finished, []
        return taken

    def _visits(self, used: list[int], progress: list[float]) -> dict[str, int]:
        """Completed interactions per affordance: steps on which one was used and nothing
        was left in progress afterwards (multi-tick ones count once, at their end)."""
        visits: dict[str, int] = {}
        for index, fraction in zip(used, progress, strict=True):
            if index >= 0 and fraction == 0.0:
                name = self.world.vocabulary[index]
                visits[name] = visits.get(name, 0) + 1
        return visits

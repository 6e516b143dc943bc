"""Exact resume: everything a trainer needs to go on from a step as if it had never
stopped, and putting it back.

A checkpoint holds the networks and the optimizer, the replay memory, every random
generator's state, the curriculum, the exploration schedules (epsilon, the intrinsic
weight, RND, excursions, demonstrators) and the world with each agent's episode so far.
These are the :class:`~.trainer.Trainer`'s own parts; it takes :class:`Resumable`'s
methods so that the training loop reads on its own.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.model import HamletModel
from hamlet.runtime.model.checkpoint import TrainingCheckpoint
from hamlet.runtime.world import TownWorld

from .curriculum import AdversarialCurriculum
from .demonstrations import Demonstrators
from .dqn import DQNLearner
from .exploration import EpsilonSchedule, Excursions, IntrinsicWeight
from .pairs import InteractionPairs
from .pipeline import LearnerProcess
from .rnd import RND


class Resumable:
    """Checkpoint and restore for the trainer, over the parts below (all its state)."""

    model: HamletModel
    learner: DQNLearner
    world: TownWorld
    num_agents: int
    env_steps: int
    episodes_done: int
    act_generator: torch.Generator
    curriculum: AdversarialCurriculum
    epsilon: EpsilonSchedule
    intrinsic: IntrinsicWeight
    rnd: RND | None
    excursions: Excursions | None
    demonstrators: Demonstrators | None
    progress: float
    obs: Tensor
    hidden: tuple[Tensor, ...] | None
    multiplier: Tensor
    stage: Tensor
    _episode_reward: Tensor
    _episode_entropy: Tensor
    _pairs: InteractionPairs
    _stats: dict[str, Tensor]
    _pending_stats: dict[str, Tensor]
    _process: LearnerProcess | None
    acting: HamletModel
    _mask: Tensor
    last_stats: dict[str, float]
    """(a property of the trainer: the last gradient step's loss and gradient norm)"""

    def checkpoint(self, config: dict[str, str], extra: dict[str, Any]) -> TrainingCheckpoint:
        """Everything needed to continue exactly from here (``config``: the pack's files;
        ``extra``: what the runner adds to the metadata)."""
        learning = self.learning_state()
        learner = learning["learner"]
        return TrainingCheckpoint(
            brain_spec=self.model.spec,
            brain_spec_hash=self.model.spec_hash,
            online=learning["online"],
            target=learner["target"],
            optimizer=learner["optimizer"],
            counters={
                "episode": self.episodes_done,
                "env_steps": self.env_steps,
                "agent_steps": self.env_steps * self.num_agents,
                "gradient_steps": learner["gradient_steps"],
            },
            config=config,
            metadata=self.metadata(extra),
            replay=learner["replay"],
            rng={
                "act": self.act_generator.get_state(),
                "learn": learning["rng"],
                "torch": torch.get_rng_state(),
            },
            curriculum=self.curriculum.state_dict(),
            exploration={
                "epsilon": self.epsilon.state_dict(),
                "intrinsic": self.intrinsic.state_dict(),
                "rnd": learning["rnd"],
                "excursions": (
                    self.excursions.state_dict() if self.excursions is not None else None
                ),
                "demonstrators": (
                    self.demonstrators.state_dict() if self.demonstrators is not None else None
                ),
            },
            world={
                "world": self.world.state_dict(),
                "obs": self.obs,
                "hidden": self.hidden,
                "multiplier": self.multiplier,
                "stage": self.stage,
                "episode_reward": self._episode_reward,
                "episode_entropy": self._episode_entropy,
                **self._pairs.state_dict(),  # last_interaction, transitions
                "last_stats": self.last_stats,
                # what the agents act with, and the gradient step they will act with next
                "acting": self.acting.module.state_dict(),
                "pending_stats": {name: float(v) for name, v in self.pending_stats.items()},
            },
        )

    def learning_state(self) -> dict[str, Any]:
        """What learns, wherever it runs: ``online`` (the network's weights), ``learner``
        (:meth:`~.dqn.DQNLearner.state_dict`), ``rnd`` and ``rng`` (the learner's
        generator); from the learner process, once its gradient step has finished."""
        if self._process is not None:
            return self._process.state()
        return {
            "online": self.model.module.state_dict(),
            "learner": self.learner.state_dict(),
            "rnd": self.rnd.state_dict() if self.rnd is not None else None,
            "rng": self.learner.generator.get_state(),
        }

    def metadata(self, extra: dict[str, Any]) -> dict[str, Any]:
        """What a checkpoint records about where training stands (correction 7: the
        true action names, the meter names in tensor order, the observation layout)."""
        return {
            **extra,
            "episode": self.episodes_done,
            "epsilon": self.epsilon.value,
            "curriculum_stage": self.curriculum.stage,
            "observation_layout": self.model.layout.to_dict(),
            "action_names": list(self.model.action_names),
            "meter_names": list(self.world.meter_names),
            # A fixed layout is part of what the agent learned (the full-view grid shows
            # where places are, not which is which): evaluation reuses it.
            "affordance_layout": (
                None
                if self.world.per_episode_layout
                else {name: list(cell) for name, cell in self.world.affordance_layout(0).items()}
            ),
        }

    def restore(self, checkpoint: TrainingCheckpoint) -> None:
        """Continue from ``checkpoint`` (made by :meth:`checkpoint` for the same brain)."""
        if self._process is not None:
            raise RuntimeError("restore a trainer before it learns in a second process")
        learner = self.learner
        self.model.module.load_state_dict(checkpoint.online)
        learner.target.load_state_dict(checkpoint.target)
        learner.optimizer.load_state_dict(checkpoint.optimizer)
        learner.gradient_steps = int(checkpoint.counters["gradient_steps"])
        learner.replay.load_state_dict(checkpoint.replay or {})
        self.env_steps = int(checkpoint.counters["env_steps"])
        self.episodes_done = int(checkpoint.counters["episode"])
        rng = checkpoint.rng or {}
        self.act_generator.set_state(rng["act"])
        learner.generator.set_state(rng["learn"])
        torch.set_rng_state(rng["torch"])
        self.curriculum.load_state_dict(checkpoint.curriculum or {})
        exploration = checkpoint.exploration or {}
        self.epsilon.load_state_dict(exploration["epsilon"])
        self.progress = self.epsilon.progress
        self.intrinsic.load_state_dict(exploration["intrinsic"])
        if self.rnd is not None:
            self.rnd.load_state_dict(exploration["rnd"])
        if self.excursions is not None and exploration.get("excursions") is not None:
            self.excursions.load_state_dict(exploration["excursions"])
        if self.demonstrators is not None and exploration.get("demonstrators") is not None:
            self.demonstrators.load_state_dict(exploration["demonstrators"])
        state = checkpoint.world or {}
        self.world.load_state_dict(state["world"])
        self.obs = state["obs"]
        self.hidden = tuple(state["hidden"]) if state["hidden"] is not None else None
        self.multiplier = state["multiplier"]
        self.stage = state["stage"]
        self._episode_reward = state["episode_reward"]
        self._episode_entropy = state["episode_entropy"]
        self._pairs.load_state_dict(state)
        self._stats = _stats(state["last_stats"])
        # (checkpoints from before the agents acted a gradient step behind: none behind)
        self.acting.module.load_state_dict(state.get("acting", checkpoint.online))
        self._pending_stats = _stats(state.get("pending_stats", state["last_stats"]))
        self._mask = self.world.action_mask()


def _stats(saved: dict[str, float]) -> dict[str, Tensor]:
    return {name: torch.tensor(float(value)) for name, value in saved.items()}

"""Exact resume: everything a :class:`~.trainer.Trainer` needs to go on from a step as
if it had never stopped, and putting it back.

A checkpoint holds the networks and the optimizer, the replay memory, every random
generator's state, the curriculum, the exploration schedules (epsilon, the intrinsic
weight, RND, excursions) and the world with each agent's episode so far. These are the
trainer's own parts, kept here so that the training loop reads on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from hamlet.runtime.model.checkpoint import TrainingCheckpoint

if TYPE_CHECKING:
    from .trainer import Trainer


def checkpoint(
    trainer: Trainer, config: dict[str, str], extra: dict[str, Any]
) -> TrainingCheckpoint:
    """Everything needed to continue exactly from here (``config``: the pack's files;
    ``extra``: what the runner adds to the metadata)."""
    learner = trainer.learner
    return TrainingCheckpoint(
        brain_spec=trainer.model.spec,
        brain_spec_hash=trainer.model.spec_hash,
        online=trainer.model.module.state_dict(),
        target=learner.target.state_dict(),
        optimizer=learner.optimizer.state_dict(),
        counters={
            "episode": trainer.episodes_done,
            "env_steps": trainer.env_steps,
            "agent_steps": trainer.env_steps * trainer.num_agents,
            "gradient_steps": learner.gradient_steps,
        },
        config=config,
        metadata=metadata(trainer, extra),
        replay=learner.replay.state_dict(),
        rng={
            "act": trainer.act_generator.get_state(),
            "learn": learner.generator.get_state(),
            "torch": torch.get_rng_state(),
        },
        curriculum=trainer.curriculum.state_dict(),
        exploration={
            "epsilon": trainer.epsilon.state_dict(),
            "intrinsic": trainer.intrinsic.state_dict(),
            "rnd": trainer.rnd.state_dict() if trainer.rnd is not None else None,
            "excursions": (
                trainer.excursions.state_dict() if trainer.excursions is not None else None
            ),
        },
        world={
            "world": trainer.world.state_dict(),
            "obs": trainer.obs,
            "hidden": trainer.hidden,
            "multiplier": trainer.multiplier,
            "stage": trainer.stage,
            "episode_reward": trainer._episode_reward,
            "episode_entropy": trainer._episode_entropy,
            **trainer._pairs.state_dict(),  # last_interaction, transitions
            "last_stats": trainer.last_stats,
        },
    )


def metadata(trainer: Trainer, extra: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint records about where training stands (correction 7: the
    true action names, the meter names in tensor order, the observation layout)."""
    return {
        **extra,
        "episode": trainer.episodes_done,
        "epsilon": trainer.epsilon.value,
        "curriculum_stage": trainer.curriculum.stage,
        "observation_layout": trainer.model.layout.to_dict(),
        "action_names": list(trainer.model.action_names),
        "meter_names": list(trainer.world.meter_names),
        # A fixed layout is part of what the agent learned (the full-view grid shows
        # where places are, not which is which): evaluation reuses it.
        "affordance_layout": (
            None
            if trainer.world.per_episode_layout
            else {name: list(cell) for name, cell in trainer.world.affordance_layout(0).items()}
        ),
    }


def restore(trainer: Trainer, checkpoint: TrainingCheckpoint) -> None:
    """Continue from ``checkpoint`` (made by :func:`checkpoint` for the same brain)."""
    learner = trainer.learner
    trainer.model.module.load_state_dict(checkpoint.online)
    learner.target.load_state_dict(checkpoint.target)
    learner.optimizer.load_state_dict(checkpoint.optimizer)
    learner.gradient_steps = int(checkpoint.counters["gradient_steps"])
    learner.replay.load_state_dict(checkpoint.replay or {})
    trainer.env_steps = int(checkpoint.counters["env_steps"])
    trainer.episodes_done = int(checkpoint.counters["episode"])
    rng = checkpoint.rng or {}
    trainer.act_generator.set_state(rng["act"])
    learner.generator.set_state(rng["learn"])
    torch.set_rng_state(rng["torch"])
    trainer.curriculum.load_state_dict(checkpoint.curriculum or {})
    exploration = checkpoint.exploration or {}
    trainer.epsilon.load_state_dict(exploration["epsilon"])
    trainer.progress = trainer.epsilon.progress
    trainer.intrinsic.load_state_dict(exploration["intrinsic"])
    if trainer.rnd is not None:
        trainer.rnd.load_state_dict(exploration["rnd"])
    if trainer.excursions is not None and exploration.get("excursions") is not None:
        trainer.excursions.load_state_dict(exploration["excursions"])
    state = checkpoint.world or {}
    trainer.world.load_state_dict(state["world"])
    trainer.obs = state["obs"]
    trainer.hidden = tuple(state["hidden"]) if state["hidden"] is not None else None
    trainer.multiplier = state["multiplier"]
    trainer.stage = state["stage"]
    trainer._episode_reward = state["episode_reward"]
    trainer._episode_entropy = state["episode_entropy"]
    trainer._pairs.load_state_dict(state)
    trainer._stats = {name: torch.tensor(float(v)) for name, v in state["last_stats"].items()}
    trainer._mask = trainer.world.action_mask()

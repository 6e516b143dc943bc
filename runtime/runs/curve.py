"""The learning curve that means something: the greedy policy, evaluated during training.

Training survival mixes three things: what the agent has learned, how often it still
explores, and how hard the curriculum makes its world right now. A :class:`LearningCurve`
takes them apart: before the first episode, after every ``evaluation.every_episodes``
episodes and at the end, the current network plays ``evaluation.episodes`` episodes
greedily at a fixed difficulty (``evaluation.multiplier``, full by default), on a world of
its own seeded the same way each time, so two points of the curve differ only by what
was learned in between. Each evaluation is a row of the run's ``evaluations`` table.
"""

from __future__ import annotations

import time

from hamlet.runtime.learning.trainer import Trainer

from .evaluate import evaluate
from .metrics import MetricsDB

EVALUATION_SEED_OFFSET = 2**32
"""The evaluation world's seed is the run's seed plus this: a stream of its own."""


class LearningCurve:
    """Decides when to evaluate, evaluates, and writes the rows."""

    def __init__(self, trainer: Trainer, db: MetricsDB, seed: int, done_before: int) -> None:
        self.trainer, self.db = trainer, db
        self.config = trainer.pack.training.evaluation
        self.seed = seed + EVALUATION_SEED_OFFSET
        self.last = done_before if done_before > 0 else None
        """Training episodes done at the last evaluation (None: none yet)."""
        self.seconds = 0.0
        """Time spent evaluating in this session (what the curve costs)."""

    @property
    def enabled(self) -> bool:
        return self.config.every_episodes > 0

    def due(self) -> bool:
        """Whether an evaluation is due now: before the first episode, and each time the
        episodes done pass a multiple of ``every_episodes``."""
        if not self.enabled:
            return False
        done, every = self.trainer.episodes_done, self.config.every_episodes
        return self.last is None or done // every > self.last // every

    def evaluate(self, wall_time: float) -> dict[str, float | int]:
        """Evaluate the network as it is now; ``wall_time`` is the run's training time so
        far (seconds, over all its sessions). Returns the row it wrote."""
        started = time.perf_counter()
        trainer = self.trainer
        world = trainer.world
        layout = None
        if not world.per_episode_layout:  # the layout it learned is part of what it knows
            layout = {name: list(cell) for name, cell in world.affordance_layout(0).items()}
        (score,) = evaluate(
            trainer.model, trainer.pack, episodes=self.config.episodes,
            multiplier=self.config.multiplier, seed=self.seed, layout=layout, baselines=False,
        )  # fmt: skip
        row: dict[str, float | int] = {
            "episode": trainer.episodes_done,
            "agent_steps": trainer.env_steps * trainer.num_agents,
            "env_steps": trainer.env_steps,
            "wall_time": wall_time,
            "timestamp": time.time(),
            "stage": trainer.curriculum.stage,
            "multiplier": self.config.multiplier,
            "episodes": score.episodes,
            "mean_survival": score.mean_survival,
            "median_survival": score.median_survival,
            "mean_return": score.mean_return,
            "median_return": score.median_return,
        }
        self.db.add_evaluation(row)
        self.last = trainer.episodes_done
        self.seconds += time.perf_counter() - started
        return row

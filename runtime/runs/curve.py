"""The learning curve that means something: the greedy policy, evaluated during training.

Training survival mixes three things: what the agent has learned, how often it still
explores, and how hard the curriculum makes its world right now. A :class:`LearningCurve`
takes them apart: before the first episode, after every ``evaluation.every_episodes``
episodes and at the end, the current network plays ``evaluation.episodes`` episodes
greedily at a fixed difficulty (``evaluation.multiplier``, full by default), on a world of
its own seeded the same way each time, so two points of the curve differ only by what
was learned in between. Each evaluation is a row of the run's ``evaluations`` table.

A run that learns in a second process (:mod:`hamlet.runtime.learning.pipeline`) has
more than one core, and the learner leaves part of its core unused. Such a run
evaluates in a third process, an :class:`Evaluator` at the lowest CPU priority, which
plays on the time the agents and the learner leave while training goes on. It plays
the same episodes with the same weights, so the rows are those the run's own process
would have written; they are written when the evaluation ends. Should that process fail,
the run evaluates in its own process from then on, and says so in its log.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.learning.forked import Forked, HelperFailed, messages
from hamlet.runtime.learning.pipeline import copy_tensors, module_tensors
from hamlet.runtime.learning.trainer import Trainer
from hamlet.runtime.model import HamletModel
from hamlet.schemas import Pack

from .evaluate import Score, evaluate
from .metrics import MetricsDB

EVALUATION_SEED_OFFSET = 2**32
"""The evaluation world's seed is the run's seed plus this: a stream of its own."""

Layout = dict[str, list[int]] | None


@dataclass(frozen=True)
class _Game:
    """How every evaluation of a run plays (its pack's ``evaluation`` section)."""

    pack: Pack
    episodes: int
    multiplier: float
    seed: int

    def play(self, model: HamletModel, layout: Layout) -> tuple[Score, float]:
        """The greedy score of ``model``, and the seconds it took."""
        started = time.perf_counter()
        (score,) = evaluate(
            model, self.pack, episodes=self.episodes, multiplier=self.multiplier,
            seed=self.seed, layout=layout, baselines=False,
        )  # fmt: skip
        return score, time.perf_counter() - started


class LearningCurve:
    """Decides when to evaluate, evaluates (here or in an :class:`Evaluator`), and writes
    the rows."""

    def __init__(
        self,
        trainer: Trainer,
        db: MetricsDB,
        seed: int,
        done_before: int,
        *,
        beside: bool = False,
        log: logging.Logger | None = None,
    ) -> None:
        self.trainer, self.db, self.log = trainer, db, log
        self.config = trainer.pack.training.evaluation
        self.game = _Game(
            trainer.pack, self.config.episodes, self.config.multiplier,
            seed + EVALUATION_SEED_OFFSET,
        )  # fmt: skip
        self.last = done_before if done_before > 0 else None
        """Training episodes done at the last evaluation (None: none yet)."""
        self.seconds = 0.0
        """Time spent evaluating in this session (what the curve costs)."""
        self.beside = beside
        """Evaluate in an :class:`Evaluator` beside training."""
        self._evaluator: Evaluator | None = None
        self._running: dict[str, Any] | None = None
        """The row of the evaluation in progress there, but for its score."""

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

    def evaluate(self, wall_time: float) -> list[dict[str, Any]]:
        """Evaluate the network as it is now; ``wall_time`` is the run's training time so
        far (seconds, over all its sessions). Returns the rows written: this one's, or
        beside training the one before it if it had not been written yet."""
        written = self.results(wait=True)  # (one at a time, in order)
        trainer = self.trainer
        world = trainer.world
        layout = None
        if not world.per_episode_layout:  # the layout it learned is part of what it knows
            layout = {name: list(cell) for name, cell in world.affordance_layout(0).items()}
        row: dict[str, Any] = {
            "episode": trainer.episodes_done,
            "agent_steps": trainer.env_steps * trainer.num_agents,
            "env_steps": trainer.env_steps,
            "wall_time": wall_time,
            "stage": trainer.curriculum.stage,
            "multiplier": self.config.multiplier,
        }
        self.last = trainer.episodes_done
        if self.beside:
            if self._evaluator is None:
                self._evaluator = Evaluator(trainer.model, self.game)
            try:
                self._evaluator.start(trainer.model, layout)
                self._running = row
                return written
            except HelperFailed as error:
                self._evaluate_here_from_now_on(error)
        return [*written, self._write(row, *self.game.play(trainer.model, layout))]

    def results(self, *, wait: bool = False) -> list[dict[str, Any]]:
        """The row of the evaluation beside training, once it has ended (``wait``: wait
        for it), written; none if none is running or it goes on."""
        evaluator, row = self._evaluator, self._running
        if evaluator is None or row is None or not (wait or evaluator.answered()):
            return []
        self._running = None
        try:
            score, seconds = evaluator.result()
        except HelperFailed as error:
            # (the weights it was given are still there to play with)
            model = copy.deepcopy(self.trainer.model)
            copy_tensors(module_tensors(model.module), evaluator.weights)
            self._evaluate_here_from_now_on(error)
            score, seconds = self.game.play(model, evaluator.layout)
        return [self._write(row, score, seconds)]

    def close(self) -> None:
        """End the evaluator, if there is one (an evaluation in progress is dropped)."""
        if self._evaluator is not None:
            self._evaluator.close()
            self._evaluator = None

    def _write(self, row: dict[str, Any], score: Score, seconds: float) -> dict[str, Any]:
        row = {
            **row,
            "timestamp": time.time(),
            "episodes": score.episodes,
            "mean_survival": score.mean_survival,
            "median_survival": score.median_survival,
            "mean_return": score.mean_return,
            "median_return": score.median_return,
        }
        self.db.add_evaluation(row)
        self.seconds += seconds
        return row

    def _evaluate_here_from_now_on(self, error: HelperFailed) -> None:
        if self.log is not None:
            self.log.warning("%s; the run evaluates in its own process from now on", error)
        self.beside = False


class EvaluatorFailed(HelperFailed):
    what = "the evaluation process"


class Evaluator:
    """A process that plays a run's evaluations (see the module's docstring), forked
    from the run's with the network and the pack it evaluates."""

    def __init__(self, model: HamletModel, game: _Game) -> None:
        self.weights = [t.detach().clone().share_memory_() for t in module_tensors(model.module)]
        """The weights to evaluate (the latest given; the process copies them)."""
        self.layout: Layout = None
        self._helper = Forked(
            _serve, model, game, self.weights, name="hamlet-evaluator", failed=EvaluatorFailed
        )

    def start(self, model: HamletModel, layout: Layout) -> None:
        """Evaluate ``model`` as it is now (the evaluation before must have ended)."""
        copy_tensors(self.weights, module_tensors(model.module))
        self.layout = layout
        self._helper.send("evaluate", layout)

    def answered(self) -> bool:
        return self._helper.answered()

    def result(self) -> tuple[Score, float]:
        """Wait for the score, and the seconds it took to play."""
        _, score, seconds = self._helper.receive("score")
        return score, seconds

    def close(self) -> None:
        self._helper.close()


def _serve(conn: Any, model: HamletModel, game: _Game, weights: list[Tensor]) -> None:
    os.nice(19)  # (the agents and the learner come first)
    torch.set_num_threads(1)
    mine = module_tensors(model.module)
    for message in messages(conn):  # ("evaluate", layout)
        copy_tensors(mine, weights)
        conn.send(("score", *game.play(model, message[1])))

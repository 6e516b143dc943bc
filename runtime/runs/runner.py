"""``hamlet run``: train a config pack's brain in its world, in a run directory
(:mod:`.directory`).

Every ``checkpoint_every`` episodes the run writes a training checkpoint
(``checkpoint_epNNNNNN.pt``, enough to resume exactly) and an inference one
(``model_epNNNNNN.pt``), beside training (:mod:`.checkpoints`); the last
``keep_checkpoints`` pairs are kept, and a final pair is written when the run ends, also
on Ctrl-C. Episodes go to ``metrics.sqlite`` (:mod:`.metrics`), the watched agent's
chosen episodes to ``recordings/`` and, with a stream, to live viewers.

``--resume RUN_DIR`` continues a run from its newest training checkpoint, with the
run's own copy of the config: with the same seed, K episodes and a resume to 2K give
the same metrics as 2K episodes straight.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hamlet.runtime.learning.pipeline import LearnerFailed
from hamlet.runtime.learning.trainer import Episode, Trainer
from hamlet.runtime.model import HamletModel
from hamlet.runtime.model.checkpoint import TrainingCheckpoint, hamlet_version
from hamlet.runtime.telemetry.streaming import EpisodeQueue, StreamServer
from hamlet.schemas.errors import Diagnostic, HamletError, RunError, StorageError

from .checkpoints import Checkpoints, Clock
from .curve import LearningCurve
from .directory import PACK_FILES
from .live import Live
from .metrics import DAMAGE, MetricsDB, damaged
from .plan import UNLIMITED, RunOptions, RunPlan, plan_run
from .process import close_logger, freeze_long_lived_objects, graceful_interrupt, run_logger
from .progress import Progress


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    episodes: int
    env_steps: int
    interrupted: bool
    """Stopped by Ctrl-C or SIGTERM before its budget was spent (exit status 130)."""
    stopped: bool = False
    """Stopped because the user closed the viewer of ``--watch`` (``q``): saved like an
    interrupted run, and resumable, but a normal way to end (exit status 0)."""
    stopped_by: str = "from the viewer"
    """How it was stopped, as the summary line says it (``--watch --web``: Ctrl-C)."""

    @property
    def status(self) -> str:
        return "stopped" if self.stopped else "interrupted" if self.interrupted else "finished"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "episodes": self.episodes,
            "env_steps": self.env_steps,
            "run_dir": str(self.run_dir),
        }

    def __str__(self) -> str:
        state = f"stopped {self.stopped_by}" if self.stopped else self.status
        resume = f" (go on with: hamlet run --resume {self.run_dir})" if self.stopped else ""
        return (
            f"{state} at episode {self.episodes} ({self.env_steps:,} environment steps)"
            f"{resume}\nrun directory: {self.run_dir}"
        )


EpisodeHook = Callable[[Trainer, list[Episode]], None]


def run_training(
    options: RunOptions,
    on_episodes: EpisodeHook | None = None,
    *,
    stream: StreamServer | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Check the run (:func:`~.plan.plan_run`), then train until it has its episodes (or
    is interrupted, or ``stop`` is set); returns where it is. With ``stream``, agent 0's
    episodes go live to its viewers."""
    return train(plan_run(options), on_episodes, stream=stream, stop=stop)


def train(
    plan: RunPlan,
    on_episodes: EpisodeHook | None = None,
    *,
    stream: StreamServer | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Train a checked run. A write the system refuses (a full disk) ends the run with
    E313: the last whole checkpoint pair stays, and the run's state says ``failed``."""
    try:
        return _train(plan, on_episodes, stream, stop)
    finally:
        # what the run froze out of the collector's sight is garbage now: a process
        # that trains run after run (a sweep's worker) must get it back
        gc.unfreeze()


def _train(
    plan: RunPlan,
    on_episodes: EpisodeHook | None,
    stream: StreamServer | None,
    stop: threading.Event | None,
) -> RunResult:
    run, pack, db, seed = plan.run, plan.pack, plan.db, plan.seed
    model = HamletModel.from_spec(plan.brain, device=plan.device, seed=seed)
    model.metadata["pack"] = pack.name
    try:
        log = run_logger(run.log)
        trainer = Trainer(
            pack, model, num_agents=plan.agents, seed=seed, device=plan.device,
            episodes=plan.total, learner_process=plan.learner_process,
        )  # fmt: skip
        if plan.resume_from is not None:
            latest, state = plan.resume_from
            _restore(trainer, state, latest)
            db.forget_after(trainer.episodes_done)
            log.info("resumed from %s at episode %d", latest.name, trainer.episodes_done)
    except BaseException:
        db.close()
        raise
    live = Live(trainer, run.path, db, stream, pack.name, seed)
    phases = trainer.phases
    freeze_long_lived_objects()
    total = plan.total
    config = {name: (run.config / name).read_text() for name in PACK_FILES}
    # where the pack came from, so that `hamlet eval` finds packs outside configs/
    source = {"pack_path": str(plan.pack_source)} if plan.pack_source is not None else {}
    metadata = {
        "pack": pack.name,
        **source,
        "overrides": plan.settings,
        "seed": seed,
        "agents": plan.agents,
        "hamlet_version": hamlet_version(),
    }
    db.set_state(
        status="running", pack=pack.name, seed=seed, agents=plan.agents, total_episodes=total,
        agent_steps_budget=plan.agent_steps, minutes_budget=plan.minutes,
        overrides=plan.settings, **source,
    )  # fmt: skip
    log.info(
        "training %s (%s) with %d agent(s)%s, seed %d, %s",
        pack.name, plan.brain.resolved.spec.name, plan.agents, _demonstrating(trainer), seed,
        _budget(plan),
    )  # fmt: skip

    interrupted = False
    curve = LearningCurve(
        trainer, db, seed, trainer.episodes_done, beside=plan.learner_process, log=log
    )
    clock = Clock(plan.train_seconds)
    checkpoints = Checkpoints(
        run, trainer, every=plan.checkpoint_every, keep=pack.training.run.keep_checkpoints,
        config=config, metadata=metadata, clock=clock, db=db, live=live, log=log,
    )  # fmt: skip
    progress = _Progress(db)
    phases.restart_window(trainer.env_steps * trainer.num_agents, trainer.gradient_steps)

    def evaluate() -> None:
        """A point of the learning curve, in the run's database and the viewers' stats
        (beside training: once it has been played)."""
        with phases.counting("evaluate"):
            trainer.settle()
            evaluated(curve.evaluate(clock.elapsed()))

    def evaluated(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            live.evaluated(row)

    def spent() -> float:
        """How far the run is through its budget: whichever of episodes, agent-steps and
        time ends it first."""
        progress = trainer.episodes_done / total
        if plan.agent_steps is not None:
            agent_steps = trainer.env_steps * trainer.num_agents
            progress = max(progress, agent_steps / plan.agent_steps)
        if plan.minutes is not None:
            progress = max(progress, clock.elapsed() / (plan.minutes * 60))
        return progress

    def budget_left() -> bool:
        """Tells the trainer how far the run is (epsilon and beta follow that)."""
        progress = spent()
        trainer.advance(progress)
        return progress < 1.0

    try:
        with graceful_interrupt() as gate:  # the final checkpoint too: a second stop waits
            try:
                if curve.due():  # the untrained network: where the curve starts
                    evaluate()
                while budget_left():
                    with gate:  # a stop waits until the step's episodes are recorded
                        finished = trainer.step()
                        if not finished:
                            continue
                        finished = [e for e in finished if e.number < total]
                        db.add_episodes(finished, trainer.env_steps, trainer.last_stats.get("loss"))
                    for t in (e.transition for e in finished if e.transition is not None):
                        log.info(
                            "curriculum %s: stage %d -> %d after episode %d (survival %.2f)",
                            t.reason, t.from_stage, t.to_stage, t.episode, t.survival,
                        )  # fmt: skip
                    with phases.counting("record"):
                        live.episodes_ended(finished)
                    if on_episodes is not None:
                        on_episodes(trainer, finished)
                    if curve.due():
                        evaluate()
                    progress.report(trainer, clock)
                    if stop is not None and stop.is_set():  # the episodes above are kept
                        gate.stop()
                    evaluated(curve.results())
                    checkpoints.poll()
                    if checkpoints.due():
                        with gate:  # (a stop waits: it would cut the learner's reply short)
                            checkpoints.save()
                if curve.enabled and curve.last != trainer.episodes_done:
                    evaluate()  # where the curve ends
            except KeyboardInterrupt:
                # a stop that comes once the budget is spent (during the last evaluation, or
                # with the last episodes) ends a complete run: resuming it would have nothing
                # left to do
                interrupted = spent() < 1.0
                if interrupted:
                    log.info("interrupted at episode %d", trainer.episodes_done)
            gate.stopped = True  # the run only saves and ends now: later stops are ignored
            evaluated(curve.results(wait=True))
            checkpoints.finish()
            if checkpoints.pending:
                checkpoints.save(final=True)
    except (StorageError, RunError) as error:
        _fail(error, db, live, log)
        raise
    except DAMAGE as error:  # written through by the recordings
        failure = damaged(db.path, str(error))
        _fail(failure, db, live, log)
        raise failure from None
    except LearnerFailed as error:
        if error.details:
            log.error("the learner process's traceback:\n%s", error.details)
        failure = learner_failed(error, run.path)
        _fail(failure, db, live, log)
        raise failure from None
    finally:
        checkpoints.close()  # (a write still in flight when the run failed ends first)
        curve.close()
        trainer.close()  # the learner process, if any
    status = "interrupted" if interrupted else "completed"
    evaluating = plan.evaluation_seconds + curve.seconds
    db.set_state(
        status=status, episodes_done=trainer.episodes_done, train_seconds=clock.elapsed(),
        agent_steps_done=trainer.env_steps * trainer.num_agents, evaluation_seconds=evaluating,
    )  # fmt: skip
    live.close(status)
    db.close()
    log.info("stopped at episode %d after %d environment steps", trainer.episodes_done,
             trainer.env_steps)  # fmt: skip
    if curve.seconds:
        log.info("evaluations took %.1f s of this session's %.1f s", curve.seconds,
                 clock.elapsed() - plan.train_seconds)  # fmt: skip
    close_logger(log)
    return RunResult(run.path, trainer.episodes_done, trainer.env_steps, interrupted)


class _Progress:
    """Where the run stands, every few seconds: in run_state, for whoever watches the run
    from outside (a sweep's driver, on this machine or another), and as a row of the
    ``throughput`` table (speed, and where the time went since the last row)."""

    EVERY = 5.0

    def __init__(self, db: MetricsDB) -> None:
        self.db, self.last = db, time.monotonic()

    def report(self, trainer: Trainer, clock: Clock) -> None:
        now = time.monotonic()
        if now - self.last >= self.EVERY:
            self.last = now
            agent_steps = trainer.env_steps * trainer.num_agents
            window = trainer.phases.window(agent_steps, trainer.gradient_steps)
            elapsed = clock.elapsed()
            self.db.add_throughput(window, trainer.episodes_done, agent_steps, elapsed)
            self.db.set_state(
                episodes_done=trainer.episodes_done, agent_steps_done=agent_steps,
                train_seconds=elapsed,
            )  # fmt: skip


def _budget(plan: RunPlan) -> str:
    """The run's budget in words, for its log: every limit that may end it."""
    limits = [f"to episode {plan.total}"] if plan.total < UNLIMITED else []
    if plan.agent_steps:
        limits.append(f"for {plan.agent_steps:,} agent-steps")
    if plan.minutes:
        limits.append(f"for {plan.minutes:g} minutes")
    return " or ".join(limits)


def _demonstrating(trainer: Trainer) -> str:
    """How many of the agents demonstrate (``exploration.demonstrations``), if any."""
    config, shown = trainer.pack.training.exploration.demonstrations, trainer.demonstrators
    if config is None or shown is None:
        return ""
    if shown.count:
        return f" ({shown.count} demonstrating)"
    return f" (no demonstrator: that takes {math.ceil(1 / config.share)} agents or more)"


def _restore(trainer: Trainer, state: TrainingCheckpoint, path: Path) -> None:
    """Put a checked training checkpoint back; one whose parts do not fit together (the
    loader checks each part, not how they relate) is refused, not half restored."""
    try:
        trainer.restore(state)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, RuntimeError) as error:
        raise RunError(
            Diagnostic(
                "E311",
                f"{path.name} cannot be resumed: its parts do not fit this run ({error})",
                hint="resume from an older checkpoint of the run (move this one away), or "
                "start a new run",
                file=str(path),
            )
        ) from None


def learner_failed(error: LearnerFailed, run_dir: Path) -> RunError:
    """E316: the run's learner process raised an error or was killed."""
    return RunError(
        Diagnostic(
            "E316",
            f"the learner process of {run_dir} stopped: {error.reason}",
            hint=f"go on from the last checkpoint with: hamlet run --resume {run_dir} (add "
            "--learner inline to learn in one process); a killed learner is most often the "
            "system out of memory, and run.log holds the traceback of an error",
            file=str(run_dir),
        )
    )


def _fail(error: HamletError, db: MetricsDB, live: Live, log: logging.Logger) -> None:
    """Leave a run that cannot go on (a full disk) marked as failed, as far as possible."""
    log.error("failed: %s", error.errors[0].message)
    live.close("failed")
    with contextlib.suppress(HamletError):  # the disk may be too full even for this
        db.set_state(status="failed", error=error.errors[0].message)
    db.close()
    close_logger(log)


def run_in_terminal(
    options: RunOptions,
    *,
    quiet: bool = False,
    serve_port: int | None = None,
    as_json: bool = False,
) -> RunResult:
    """``hamlet run``: train with the live progress display on stderr (unless ``quiet``;
    ``as_json``: JSON lines on stdout, every 5 s), streaming the watched agent's episodes
    on ``serve_port`` when one is given."""
    plan = plan_run(options)
    print(f"run directory: {plan.run.path}", file=sys.stderr, flush=True)
    progress = None
    if as_json:
        progress = Progress(plan.total, interval=_Progress.EVERY, as_json=True)
    elif not quiet:
        progress = Progress(plan.total)
    stream = None
    if serve_port is not None:

        def announce(url: str) -> None:
            print(f"streaming on {url}; watch with: hamlet watch {url}", file=sys.stderr)

        stream = StreamServer(EpisodeQueue(), port=serve_port, on_start=announce)
    try:
        return train(plan, on_episodes=progress, stream=stream)
    finally:
        if progress is not None:
            progress.close()

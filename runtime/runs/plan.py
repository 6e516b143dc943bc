"""What a run will do, decided and checked before anything is written.

:func:`plan_run` validates every option, the pack, the brain and the device, and for
``--resume`` the run directory, its database and its newest training checkpoint. Only
then does a new run get its directory: a mistake never leaves a half-made run folder,
and a resumed run never starts against a history it cannot continue.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from hamlet.compiler import DEFAULT_MAX_MEMORY, CompiledBrain, compile_brain
from hamlet.compiler.memory import format_bytes
from hamlet.compiler.overridden_pack import pack_texts
from hamlet.runtime.learning.dqn import window_steps
from hamlet.runtime.model.checkpoint import TrainingCheckpoint, load_training_checkpoint
from hamlet.runtime.model.device import resolve_device
from hamlet.schemas import Pack, load_pack, observation_layout
from hamlet.schemas.errors import CheckpointError, Diagnostic, RunError, UsageError
from hamlet.schemas.override import override_settings, parse_overrides

from .directory import RunDirectory
from .metrics import MetricsDB

MAX_SEED = 2**63 - 1
UNLIMITED = 2**62
"""The episode total of a run whose budget is time or agent-steps alone: a run given
``--minutes`` or ``--agent-steps`` trains for that long, not to ``run.max_episodes``."""
RESUMED_ENTRIES: dict[str, type | tuple[type, ...]] = {
    "counters.env_steps": int,
    "counters.gradient_steps": int,
    "rng.act": torch.Tensor,
    "rng.learn": torch.Tensor,
    "rng.torch": torch.Tensor,
    "replay": Mapping,
    "curriculum": Mapping,
    "exploration.epsilon": Mapping,
    "exploration.intrinsic": Mapping,
    "world.world": Mapping,
}
"""What the trainer reads from a training checkpoint to go on, beyond what every training
checkpoint has: missing or mistyped, it is E204 with its path."""
"""Seeds are 64-bit signed integers (torch.manual_seed's range)."""


@dataclass
class RunOptions:
    """What ``hamlet run`` was asked to do."""

    pack: str | Path | None = None
    """A config pack folder or shipped pack name (None when resuming)."""
    episodes: int | None = None
    """Total episodes of the run (default: the pack's ``run.max_episodes``; when resuming,
    the total the run was started with)."""
    seed: int | None = None
    """Default: the pack's ``run.seed``; when resuming, the run's own."""
    agents: int | None = None
    """Agents sharing one learner (default 1; when resuming, the run's own)."""
    device: str = "cpu"
    learner: str = "auto"
    """Where gradient steps run (:data:`LEARNERS`): ``process``, a second process beside
    the agents (on the CPU); ``inline``, the trainer's own; ``auto``, a second process
    on a CPU with two cores or more for this process. The learning is the same
    (identical results at one torch thread, which a learner process's sides use)."""
    out: str | Path = "runs"
    resume: str | Path | None = None
    checkpoint_every: int | None = None
    """Default: the pack's ``run.checkpoint_every``."""
    minutes: float | None = None
    """Stop (with a final checkpoint) once the run has trained this long, over all its
    sessions (a resumed run counts the time it had)."""
    agent_steps: int | None = None
    """Stop once the agents have taken this many steps in all (the reproducible budget:
    the same on any machine)."""
    name: str | None = None
    """The run directory's name under ``out/<pack>/`` (default: the date and time)."""
    overrides: Sequence[str] = ()
    """Settings of the pack's files to change, as ``--set`` texts (``KEY=VALUE``); a
    resumed run keeps the settings it started with."""
    max_memory: int = DEFAULT_MAX_MEMORY
    """Refuse (E134) a run whose brain or agents would need more memory than this (bytes),
    estimated from their sizes before anything is allocated."""


LEARNERS = ("auto", "process", "inline")


@dataclass
class RunPlan:
    """A checked run: everything :func:`~hamlet.runtime.runs.runner.run_training` needs."""

    run: RunDirectory
    pack: Pack
    """The run's own copy of the pack (its ``config/``), under the pack's name."""
    brain: CompiledBrain
    device: torch.device
    seed: int
    agents: int
    total: int
    """Episodes the run ends at (:data:`UNLIMITED` when another budget ends it)."""
    checkpoint_every: int
    db: MetricsDB
    pack_source: Path | None
    """The pack folder the run was started from (its ``config/`` is the copy it uses)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The ``--set`` settings the run was started with, by canonical key."""
    minutes: float | None = None
    """Training time budget, over all sessions."""
    agent_steps: int | None = None
    """Agent-steps budget."""
    train_seconds: float = 0.0
    """Time the run trained before this session."""
    evaluation_seconds: float = 0.0
    """Time its learning-curve evaluations took before this session."""
    resume_from: tuple[Path, TrainingCheckpoint] | None = None
    """The newest training checkpoint and what it holds, when resuming."""
    learner_process: bool = False
    """Take the gradient steps in a second process (``--learner``)."""


def plan_run(options: RunOptions) -> RunPlan:
    """Check everything about ``options``, then make (or open) the run directory."""
    _check_options(options)
    device = resolve_device(options.device)
    plan = _plan(options, device)
    plan.learner_process = learner_process(options.learner, device)
    return plan


def learner_process(choice: str, device: torch.device) -> bool:
    """Whether a run with ``--learner choice`` on ``device`` learns in a second process."""
    if choice == "inline":
        return False
    if device.type != "cpu":
        if choice == "process":
            raise UsageError.option(
                "--learner", choice, f"inline or auto on {device.type} (a second process "
                "helps on the CPU only)",
            )  # fmt: skip
        return False
    return choice == "process" or len(os.sched_getaffinity(0)) >= 2


def _plan(options: RunOptions, device: torch.device) -> RunPlan:
    if options.resume is not None:
        return _plan_resume(options, device)
    if options.pack is None:
        raise UsageError.option("PACK", None, "a config pack to train (or --resume RUN_DIR)")
    overrides = parse_overrides(options.overrides)
    pack = load_pack(options.pack, overrides=overrides)
    layout = observation_layout(pack)
    brain = compile_brain(
        pack.directory / "brain.yaml", layout=layout, max_memory=options.max_memory,
        overrides=overrides,
    )  # fmt: skip
    agents = options.agents or pack.training.run.agents
    check_agents(agents, brain, options.max_memory)
    texts = pack_texts(pack.directory, overrides)
    run = RunDirectory.create(options.out, pack, brain, texts, options.name)
    db = MetricsDB(run.metrics, create=True)
    seed = options.seed if options.seed is not None else pack.training.run.seed
    return RunPlan(
        run=run,
        pack=_own_copy(run),
        brain=compile_brain(
            run.config / "brain.yaml", layout=layout, max_memory=options.max_memory
        ),
        device=device,
        seed=seed,
        agents=agents,
        total=options.episodes or _default_total(options, pack.training.run.max_episodes),
        checkpoint_every=options.checkpoint_every or pack.training.run.checkpoint_every,
        db=db,
        pack_source=pack.directory.resolve(),
        settings=override_settings(overrides),
        minutes=options.minutes,
        agent_steps=options.agent_steps,
    )


def _plan_resume(options: RunOptions, device: torch.device) -> RunPlan:
    run = RunDirectory.open(options.resume)  # type: ignore[arg-type]
    if options.overrides:
        raise _conflict(
            run,
            f"{run.path} is resumed with the settings it started with; --set cannot change them",
            "leave out --set to resume the run, or start a new run with the new settings",
        )
    pack = _own_copy(run)
    if options.pack is not None:
        asked = load_pack(options.pack).name
        if asked != pack.name:
            raise _conflict(
                run,
                f"{run.path} is a run of {pack.name}, not of {asked}",
                "leave out the pack to resume a run (it trains with its own copy of its "
                "config), or start a new run of " + asked,
            )
    brain = compile_brain(
        run.config / "brain.yaml", layout=observation_layout(pack), max_memory=options.max_memory
    )
    run.check_writable()
    db = MetricsDB(run.metrics, create=False)
    try:
        run.remove_temporary_files()
        latest = run.latest_training_checkpoint()
        state = _load_newest(run, latest, device)
        if state.brain_spec_hash != brain.spec_hash:
            raise _conflict(
                run,
                f"{latest.name} was trained with brain {state.brain_spec_hash[:19]}..., but the "
                f"run's config/brain.yaml is now {brain.spec_hash[:19]}...",
                "the run's config was edited after it started; put it back, or start a new "
                "run with the new brain",
            )
        done = int(state.counters.get("episode", 0))
        run.complete_pair(done, state)
        recorded = db.state()
        seed = _recorded(run, "seed", options.seed, recorded.get("seed"))
        agents = len(state.world["world"]["alive"]) if state.world else recorded.get("agents", 1)
        agents = _recorded(run, "agents", options.agents, agents)
        check_agents(agents, brain, options.max_memory)
        total = options.episodes or recorded.get("total_episodes") or pack.training.run.max_episodes
        agent_steps = options.agent_steps or recorded.get("agent_steps_budget")
        minutes = options.minutes or recorded.get("minutes_budget")
        trained = float(recorded.get("train_seconds") or 0.0)
        steps_done = int(state.counters.get("env_steps", 0)) * agents
        for spent, budget, flag, what in (
            (done, total, "--episodes", "episodes"),
            (steps_done, agent_steps, "--agent-steps", "agent-steps"),
            (trained / 60, minutes, "--minutes", "minutes of training"),
        ):
            if budget is not None and spent >= budget:
                raise BudgetSpent(
                    Diagnostic(
                        "E311",
                        f"{run.path} has done {spent:g} of its {budget:g} {what}",
                        hint=f"to train it further, give {flag} larger than {spent:g}",
                        file=str(run.path),
                    )
                )
    except BaseException:
        db.close()
        raise
    return RunPlan(
        run=run,
        pack=pack,
        brain=brain,
        device=device,
        seed=seed,
        agents=agents,
        total=total,
        checkpoint_every=options.checkpoint_every or pack.training.run.checkpoint_every,
        db=db,
        pack_source=Path(recorded["pack_path"]) if "pack_path" in recorded else None,
        settings=recorded.get("overrides") or {},
        minutes=minutes,
        agent_steps=agent_steps,
        train_seconds=trained,
        evaluation_seconds=float(recorded.get("evaluation_seconds") or 0.0),
        resume_from=(latest, state),
    )


def _own_copy(run: RunDirectory) -> Pack:
    """The run's copy of its pack, under the pack's name (runs/<pack>/<stamp>/config)."""
    return load_pack(run.config).model_copy(update={"name": run.pack_name})


def _load_newest(run: RunDirectory, latest: Path, device: torch.device) -> TrainingCheckpoint:
    """The run's newest training checkpoint; one that cannot be read says which one
    before it a resume would take once it is moved aside (``--resume`` takes the newest)."""
    try:
        return load_training_checkpoint(latest, device, required=RESUMED_ENTRIES)
    except CheckpointError as error:
        older = [path for _, path in run.training_checkpoints() if path != latest]
        if not older:
            raise
        first = error.errors[0]
        hint = (
            f"{first.hint}; or move it (and its model_ep file) out of {run.checkpoints} "
            f"to resume from the one before, {older[-1].name}"
        )
        raise CheckpointError([replace(first, hint=hint), *error.errors[1:]]) from None


def _recorded(run: RunDirectory, name: str, asked: int | None, recorded: object) -> int:
    """A setting a resumed run keeps: its own, unless the same one is asked for."""
    if not isinstance(recorded, int) or isinstance(recorded, bool):
        raise RunError(
            Diagnostic(
                "E312",
                f"{run.metrics} does not record the run's {name}",
                hint="the database is damaged; restore it, or start a new run",
                file=str(run.metrics),
                path=f"run_state.{name}",
            )
        )
    if asked is not None and asked != recorded:
        raise _conflict(
            run,
            f"{run.path} was trained with --{name} {recorded}, not {asked}",
            f"leave out --{name} to resume the run as it was (it is part of what makes a "
            "resumed run the same as one run straight through)",
        )
    return recorded


class BudgetSpent(RunError):
    """A run asked to resume with nothing left of its budget: complete, even where its
    database does not say so (its process was killed after its last checkpoint)."""


def _conflict(run: RunDirectory, message: str, hint: str) -> RunError:
    return RunError(Diagnostic("E311", message, hint=hint, file=str(run.path)))


AGENT_BYTES_PER_OBSERVATION_VALUE = 4 * 12
"""What one agent holds per observation value, float32: its observation, the next one and
the world's buffers behind them, the acting batch, and its share of the replay (at least
one step per agent)."""


def check_agents(agents: int, brain: CompiledBrain, limit: int) -> None:
    """Refuse ``agents`` that the brain cannot train: E134 when their copies of the world
    would need more than ``limit`` bytes, E135 when their shares of the replay memory are
    shorter than the windows that learning samples from them."""
    per_agent = AGENT_BYTES_PER_OBSERVATION_VALUE * brain.layout.obs_dim + 4096
    memory = brain.resolved.recurrent
    if memory is not None:  # each agent's acting state (h, c)
        per_agent += 2 * 4 * memory.spec.num_layers * memory.spec.hidden_size  # type: ignore[attr-defined]
    needed = agents * per_agent
    if needed > limit:
        raise UsageError(
            Diagnostic(
                "E134",
                f"--agents {agents:,} would need about {format_bytes(needed)} for the agents "
                f"alone, over the limit of {format_bytes(limit)}",
                hint="train fewer agents, or raise the limit with --max-memory GIB if the "
                "machine has the memory",
                file="<command line>",
                path="--agents",
            )
        )
    learning = brain.to_dict()["learning"]
    window = window_steps(learning, memory is not None)
    capacity = learning["replay"]["capacity"]
    if capacity // agents < window:
        what = "burn_in + length" if memory is not None else "n_step"
        raise UsageError(
            Diagnostic(
                "E135",
                f"--agents {agents:,} would leave each agent {capacity // agents} of the "
                f"replay's {capacity:,} steps, fewer than the {window} ({what}) that a "
                "training window reads from one agent",
                hint=f"train at most {capacity // window:,} agents, or raise the capacity to "
                f"{window} steps an agent or more: --set learning.replay.capacity="
                f"{agents * window}",
                file="<command line>",
                path="--agents",
            )
        )


def _default_total(options: RunOptions, max_episodes: int) -> int:
    """Without ``--episodes``: a time or agent-step budget is the whole budget (the pack's
    ``max_episodes`` would otherwise cut it short); else the pack's ``max_episodes``."""
    return UNLIMITED if options.minutes or options.agent_steps else max_episodes


def _check_options(options: RunOptions) -> None:
    for flag, value in (
        ("--episodes", options.episodes),
        ("--agents", options.agents),
        ("--checkpoint-every", options.checkpoint_every),
        ("--agent-steps", options.agent_steps),
    ):
        if value is not None and (isinstance(value, bool) or value < 1):
            raise UsageError.option(flag, value, "a whole number of at least 1")
    if options.seed is not None and not 0 <= options.seed <= MAX_SEED:
        raise UsageError.option("--seed", options.seed, f"a whole number from 0 to {MAX_SEED}")
    if options.minutes is not None and not (math.isfinite(options.minutes) and options.minutes > 0):
        raise UsageError.option("--minutes", options.minutes, "a number of minutes above 0")
    if options.learner not in LEARNERS:
        raise UsageError.option("--learner", options.learner, "one of " + ", ".join(LEARNERS))

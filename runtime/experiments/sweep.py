"""``hamlet sweep``: packs x settings x seeds, each an ordinary run, beside a manifest.

A sweep is a :class:`~hamlet.schemas.sweep.SweepFile` (from ``sweep.yaml`` or the command
line). :func:`plan_sweep` checks every pack and every combination of settings before it
writes anything, then makes ``sweeps/<name>/`` with ``manifest.json`` and one run
directory per run under ``runs/<pack>/<id>/``. :func:`run_sweep` trains them on a backend
(:mod:`.backends`: worker processes here, or Ray), a few at once, with one progress line
for the whole sweep. Running the same sweep again resumes it: finished runs are skipped,
interrupted ones go on from their checkpoints, and the others start.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from hamlet.compiler import DEFAULT_MAX_MEMORY, compile_brain
from hamlet.runtime.model.device import resolve_device
from hamlet.runtime.runs import read_state
from hamlet.runtime.runs.plan import check_agents
from hamlet.runtime.runs.progress import format_duration
from hamlet.schemas import load_pack, observation_layout
from hamlet.schemas.errors import Diagnostic, HamletError, RunError, UsageError
from hamlet.schemas.override import override_settings, override_texts, parse_grid, parse_overrides
from hamlet.schemas.sweep import Budget, SweepFile, load_sweep

from .backends import Backend, LocalBackend, RayBackend, RunTask
from .extras import require
from .manifest import MANIFEST, Manifest

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
"""A sweep's name: one folder under sweeps/ (sweep.schema.json says the same)."""


@dataclass
class Sweep:
    """A checked sweep and its folder."""

    folder: Path
    manifest: Manifest
    spec: SweepFile
    tasks: dict[str, RunTask]


@dataclass(frozen=True)
class SweepResult:
    folder: Path
    counts: dict[str, int]
    interrupted: bool

    def __str__(self) -> str:
        state = "interrupted" if self.interrupted else "done"
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n)
        lines = [f"sweep {state}: {counts}", f"sweep folder: {self.folder}"]
        if self.counts.get("finished"):
            lines.append(f"compare its groups with: hamlet compare {self.folder}")
        if self.interrupted or self.counts.get("failed"):
            lines.append("run the same command again to resume it")
        return "\n".join(lines)


def sweep_from_command_line(
    sources: list[str],
    *,
    seeds: int | None = None,
    seed_list: list[int] | None = None,
    sets: list[str] = (),  # type: ignore[assignment]
    episodes: int | None = None,
    agent_steps: int | None = None,
    minutes: float | None = None,
    agents: int | None = None,
    workers: int | None = None,
    backend: str | None = None,
    address: str | None = None,
    name: str | None = None,
    device: str | None = None,
) -> SweepFile:
    """The sweep ``hamlet sweep`` was asked for: packs and options, or one ``sweep.yaml``
    (whose workers, backend and address the options may still change)."""
    if len(sources) == 1 and sources[0].endswith((".yaml", ".yml")):
        given = {
            "--seeds": seeds, "--seed-list": seed_list, "--set": sets or None,
            "--episodes": episodes, "--agent-steps": agent_steps, "--minutes": minutes,
            "--agents": agents, "--name": name, "--device": device,
        }  # fmt: skip
        for flag, value in given.items():
            if value is not None:
                raise UsageError.option(flag, value, f"it in {sources[0]}, which defines the sweep")
        spec = load_sweep(sources[0])
        changes = {"workers": workers, "backend": backend, "address": address}
        return spec.model_copy(update={k: v for k, v in changes.items() if v is not None})
    if seeds is not None and seed_list is not None:
        raise UsageError.option("--seed-list", seed_list, "either --seeds N or --seed-list")
    if episodes is None and agent_steps is None and minutes is None:
        raise UsageError.option(
            "a budget", None, "each run's: --agent-steps N (the same on any machine), "
            "--episodes N or --minutes M"
        )  # fmt: skip
    grid: dict[str, list[Any]] = {}
    fixed: dict[str, Any] = {}
    for index, text in enumerate(sets):
        values = parse_grid(text, index=index)
        setting = values[0].setting
        if len(values) > 1:
            grid[setting] = [v.value for v in values]
        else:
            fixed.update(override_settings(values))
    return SweepFile(
        name=name, packs=sources, seeds=seed_list or seeds or 1, grid=grid, set=fixed,
        budget=Budget(episodes=episodes, agent_steps=agent_steps, minutes=minutes),
        agents=agents, workers=workers, backend=backend or "local", address=address,
        device=device or "cpu",
    )  # fmt: skip


def canonical(spec: SweepFile) -> dict[str, Any]:
    """What makes a sweep this sweep (not where or how fast it runs): packs (as folders),
    seeds, settings and budget. Its hash names the sweep by default."""
    return {
        "packs": [str(load_pack(p).directory.resolve()) for p in spec.packs],
        "seeds": spec.seed_list,
        "grid": spec.grid,
        "set": spec.set,
        "budget": spec.budget.model_dump(),
        "agents": spec.agents,
        "device": spec.device,
    }


def plan_sweep(spec: SweepFile, out: str | Path = "sweeps", max_memory: int | None = None) -> Sweep:
    """Check the sweep (every pack, every combination of settings, the device), then make
    its folder and manifest, or reopen them when the same sweep ran before."""
    if spec.name is not None and not NAME.fullmatch(spec.name):
        raise UsageError.option(
            "--name", spec.name, "a folder name of letters, digits, '_' and '-' (no paths)"
        )
    if spec.backend == "local":
        resolve_device(spec.device)
    packs = {p: load_pack(p) for p in spec.packs}
    combos = [
        dict(zip(spec.grid, values, strict=True))
        for values in itertools.product(*spec.grid.values())
    ]
    for pack in packs.values():
        for combo in combos:
            settings = {**spec.set, **combo}
            _check_settings(pack.directory, settings, max_memory, spec.agents)
    description = canonical(spec)
    digest = hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:8]
    name = spec.name or "+".join(p.name for p in packs.values()) + f"-{digest}"
    folder = Path(out) / name
    runs, tasks = [], {}
    for index, (given, combo, seed) in enumerate(
        itertools.product(spec.packs, combos, spec.seed_list)
    ):
        pack = packs[given]
        run_id = f"r{index:03d}"
        settings = {**spec.set, **combo}
        run_dir = folder / "runs" / pack.name / run_id
        runs.append({
            "id": run_id, "pack": pack.name, "pack_path": str(pack.directory.resolve()),
            "seed": seed, "settings": settings, "group": group_label(pack.name, combo),
            "run_dir": str(run_dir.relative_to(folder)), "status": "queued",
        })  # fmt: skip
        tasks[run_id] = RunTask(
            id=run_id, pack=str(pack.directory.resolve()), seed=seed, settings=settings,
            out=str((folder / "runs").resolve()), run_dir=str(run_dir.resolve()),
            episodes=spec.budget.episodes, agent_steps=spec.budget.agent_steps,
            minutes=spec.budget.minutes, agents=spec.agents, device=spec.device,
            max_memory=max_memory,
        )  # fmt: skip
    if (folder / MANIFEST).exists():
        manifest = Manifest.read(folder)
        if manifest.data.get("spec") != description:
            raise RunError(
                Diagnostic(
                    "E311",
                    f"the sweep {name} exists with other settings ({folder / MANIFEST})",
                    hint="give this sweep another --name, or run the sweep that is there "
                    "with the same packs, seeds, settings and budget",
                    file=str(folder / MANIFEST),
                )
            )
    else:
        manifest = Manifest.create(folder, name, description, runs)
    return Sweep(folder, manifest, spec, tasks)


def group_label(pack: str, combo: dict[str, Any]) -> str:
    """How a group of runs (same pack and settings, any seed) is called in reports."""
    settings = " ".join(f"{k}={json.dumps(v)}" for k, v in combo.items())
    return f"{pack} {settings}".strip()


def run_sweep(
    spec: SweepFile,
    *,
    out: str | Path = "sweeps",
    max_memory: int | None = None,
    quiet: bool = False,
    stream: TextIO | None = None,
) -> SweepResult:
    """Train every run of the sweep that has not finished; Ctrl-C stops the runs cleanly
    (each saves a final checkpoint) and the next call resumes them."""
    if spec.backend == "ray":  # before anything is written
        require("ray", "cluster", "--backend ray", "--backend")
    sweep = plan_sweep(spec, out, max_memory)
    with _only_driver(sweep.folder):
        return _drive(sweep, spec, quiet, stream)


def _drive(sweep: Sweep, spec: SweepFile, quiet: bool, stream: TextIO | None) -> SweepResult:
    manifest = sweep.manifest
    todo = [r["id"] for r in manifest.runs if r["status"] != "finished"]
    for run_id in todo:
        manifest.run(run_id).update(status="queued", error=None)
    manifest.save()
    backend = _backend(spec)
    progress = None if quiet else SweepProgress(sweep, stream or sys.stderr)
    running: set[str] = set()
    interrupted = False
    try:
        try:
            while todo or running:
                while todo and len(running) < backend.slots:
                    run_id = todo.pop(0)
                    backend.start(sweep.tasks[run_id])
                    running.add(run_id)
                    manifest.update(run_id, status="running")
                for run_id, outcome in backend.ended(timeout=1.0):
                    running.discard(run_id)
                    manifest.update(run_id, **outcome)
                if progress is not None:
                    progress.show(running)
        except KeyboardInterrupt:
            interrupted = True
            backend.stop()
            while running:  # each run saves its final checkpoint, then ends
                for run_id, outcome in backend.ended(timeout=1.0):
                    running.discard(run_id)
                    if outcome["status"] == "finished":
                        manifest.update(run_id, **outcome)
                    else:
                        manifest.update(run_id, **{**outcome, "status": "interrupted"})
    finally:
        backend.close()
        if progress is not None:
            progress.close()
    for run_id in todo:  # never started: still queued
        manifest.run(run_id)["status"] = "queued"
    manifest.save()
    return SweepResult(sweep.folder, manifest.counts(), interrupted)


@contextmanager
def _only_driver(folder: Path) -> Iterator[None]:
    """One driver per sweep at a time (the lock goes with its process, even on kill -9)."""
    with (folder / ".driver.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(
                Diagnostic(
                    "E311",
                    f"the sweep in {folder} is running in another process",
                    hint="wait for it, or stop it (Ctrl-C) and run the command again here",
                    file=str(folder),
                )
            ) from None
        yield


def _backend(spec: SweepFile) -> Backend:
    if spec.backend == "ray":
        return RayBackend(spec.address, spec.workers, spec.device)
    return LocalBackend(spec.workers or os.cpu_count() or 1)


def _check_settings(
    pack_dir: Path, settings: dict[str, Any], max_memory: int | None, agents: int | None
) -> None:
    """Every combination must make a pack and a brain that load (as the run will load
    them), and train its agents, before any run starts."""
    overrides = parse_overrides(override_texts(settings))
    pack = load_pack(pack_dir, overrides=overrides)
    limit = max_memory or DEFAULT_MAX_MEMORY
    brain = compile_brain(
        pack_dir / "brain.yaml", layout=observation_layout(pack), overrides=overrides,
        max_memory=limit,
    )  # fmt: skip
    check_agents(agents or pack.training.run.agents, brain, limit)


class SweepProgress:
    """One line for the whole sweep: runs finished, running and queued, how far the
    running ones are (from their run_state), and when it should end."""

    def __init__(self, sweep: Sweep, stream: TextIO) -> None:
        self.sweep, self.stream = sweep, stream
        self.live = stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0
        self.at_start: float | None = None

    def fraction(self, run: dict[str, Any]) -> float:
        """How much of its budget a run has done (1 when finished)."""
        if run["status"] == "finished":
            return 1.0
        db = self.sweep.folder / run["run_dir"] / "metrics.sqlite"
        try:
            state = read_state(db) if db.is_file() else {}
        except HamletError:
            return 0.0
        budget = self.sweep.spec.budget
        done = [
            (state.get("episodes_done"), budget.episodes),
            (state.get("agent_steps_done"), budget.agent_steps),
            (state.get("train_seconds"), budget.minutes and budget.minutes * 60),
        ]
        parts = [min(1.0, float(d) / b) for d, b in done if b and isinstance(d, int | float)]
        return max(parts, default=0.0)

    def show(self, running: set[str]) -> None:
        now = time.monotonic()
        if now - self.last < (1.0 if self.live else 15.0):
            return
        self.last = now
        runs = self.sweep.manifest.runs
        work = sum(self.fraction(r) for r in runs)
        if self.at_start is None:
            self.at_start = work
        counts = self.sweep.manifest.counts()
        done_here = work - self.at_start
        eta = "-"
        if done_here > 0:
            seconds = (len(runs) - work) * (now - self.started) / done_here
            eta = format_duration(seconds)
        text = (
            f"sweep {self.sweep.manifest.data['name']}: {counts['finished']}/{len(runs)} "
            f"finished, {len(running)} running, {counts['queued']} queued"
            + (f", {counts['failed']} failed" if counts["failed"] else "")
            + f" | {work / len(runs):.0%} | ETA {eta}"
        )
        self.stream.write(("\r\x1b[2K" + text) if self.live else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()

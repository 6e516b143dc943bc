"""Learning curves: a run's figures against agent steps, training episodes or training
time, and a group's curve over its seeds.

Runs are measured at different x (agent steps differ with the lengths of the episodes,
times with the machine), so each run of a group is first **interpolated linearly onto
one grid** of :data:`POINTS` evenly spaced x values; at every grid point the group's
curve is the IQM over its runs, and its band the 95% stratified bootstrap interval (one
resample of the seeds for the whole curve, see :func:`.stats.curve_estimate`). The grid
spans the x range that every finished run covers (every run's, when none has finished):
further on, fewer and fewer runs would remain, and with agent steps on x the ones that
remain are those whose agents lived longest. An unfinished run counts as far as it got.
A group of one run keeps that run's own points.

Training figures come one per episode and are noisy: each run's are first averaged over
:data:`BLOCKS` blocks of consecutive episodes (a point is the mean of the episodes since
the one before, at the x where the last of them ended).

Curriculum stage changes are marked where a group's runs first entered each stage (the
median x over the runs that reached it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hamlet.runtime.runs.metrics import read_rows
from hamlet.schemas.errors import Diagnostic, RunError, UsageError

from .groups import RunGroup, RunRecord
from .stats import DEFAULT_REPS, curve_estimate

POINTS = 200
"""Grid points of a group's curve (as many as a run's training figures have)."""
BLOCKS = 200
"""Points of a run's training figures, at most (blocks of consecutive episodes)."""
X_AXES = {
    "agent_steps": "agent steps",
    "episodes": "training episodes",
    "wall_time": "training time (s)",
}


@dataclass(frozen=True)
class Metric:
    """A figure a curve can show: a column of a run's ``evaluations`` or ``episodes``."""

    name: str
    label: str
    table: str
    column: str


METRICS = {
    m.name: m
    for m in (
        Metric("eval_survival", "evaluation survival (mean steps)", "evaluations", "mean_survival"),
        Metric("train_survival", "training survival (steps)", "episodes", "steps"),
        Metric("loss", "loss", "episodes", "loss"),
        Metric("epsilon", "epsilon", "episodes", "epsilon"),
        Metric("stage", "curriculum stage", "episodes", "stage"),
    )
}
DEFAULT_METRICS = ("eval_survival",)
EPISODE_COLUMNS = "episode, timestamp, env_steps, steps, loss, epsilon, stage"


@dataclass(frozen=True)
class Series:
    """One run's values of one figure, by increasing x."""

    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Curve:
    """One group's line on one panel: the IQM over its runs, and the band around it."""

    group: str
    label: str
    x: np.ndarray
    iqm: np.ndarray
    low: np.ndarray
    high: np.ndarray
    runs: int


@dataclass(frozen=True)
class Panel:
    metric: Metric
    curves: list[Curve]


@dataclass(frozen=True)
class StageChange:
    group: str
    stage: int
    x: float
    """Median x, over the group's runs that reached the stage, of their first episode in it."""


@dataclass(frozen=True)
class Curves:
    """What a picture of learning curves shows: a panel per figure, a line per group."""

    x_axis: str
    panels: list[Panel]
    stage_changes: list[StageChange]

    @property
    def x_label(self) -> str:
        return X_AXES[self.x_axis]


def check_axes(x: str, metrics: Sequence[str] | None) -> list[Metric]:
    """The metrics to draw (E300 for an unknown x axis or metric)."""
    if x not in X_AXES:
        raise UsageError.option("--x", x, f"one of {', '.join(X_AXES)}")
    chosen = []
    for name in metrics or DEFAULT_METRICS:
        if name not in METRICS:
            raise UsageError.option("--metric", name, f"one of {', '.join(METRICS)}")
        if METRICS[name] not in chosen:
            chosen.append(METRICS[name])
    return chosen


def learning_curves(
    groups: Sequence[RunGroup],
    *,
    x: str = "agent_steps",
    metrics: Sequence[str] | None = None,
    reps: int = DEFAULT_REPS,
    seed: int = 0,
) -> Curves:
    """Each group's curve of each metric against ``x`` (E310 when no run has figures for
    a metric)."""
    chosen = check_axes(x, metrics)
    tables = {run.path: _RunTables(run) for group in groups for run in group.runs}
    panels = []
    for metric in chosen:
        curves = []
        for group in groups:
            found = [
                (series, run.finished)
                for run in group.runs
                if (series := tables[run.path].series(metric, x)) is not None
            ]
            if found:
                curves.append(_group_curve(group, found, reps=reps, seed=seed))
        if not curves:
            raise _nothing_to_draw(metric)
        panels.append(Panel(metric, curves))
    changes = [
        change
        for group in groups
        for change in _stage_changes(group, [tables[r.path] for r in group.runs], x)
    ]
    return Curves(x, panels, changes)


class _RunTables:
    """One run's rows, read once however many panels use them."""

    def __init__(self, run: RunRecord) -> None:
        self.run = run
        self._episodes: list[dict[str, Any]] | None = None

    def episodes(self) -> list[dict[str, Any]]:
        if self._episodes is None:
            found = self.run.metrics.is_file()
            query = f"SELECT {EPISODE_COLUMNS} FROM episodes ORDER BY episode"
            self._episodes = read_rows(self.run.metrics, query) if found else []
        return self._episodes

    def series(self, metric: Metric, x: str) -> Series | None:
        if metric.table == "evaluations":
            rows = self.run.evaluations
            column = "episode" if x == "episodes" else x
            xs = np.array([row[column] for row in rows], dtype=float)
            return _series(xs, np.array([row[metric.column] for row in rows], dtype=float))
        rows = self.episodes()
        values = np.array([row[metric.column] for row in rows], dtype=float)  # NULL -> nan
        series = _series(self.episode_x(rows, x), values)
        return None if series is None else _blocks(series, last=metric.name == "stage")

    def episode_x(self, rows: list[dict[str, Any]], x: str) -> np.ndarray:
        """Where each episode row lies on the x axis (an episode is done at its end)."""
        if x == "episodes":
            return np.array([row["episode"] + 1 for row in rows], dtype=float)
        if x == "agent_steps":
            return np.array([row["env_steps"] * self.run.agents for row in rows], dtype=float)
        return self.training_time(np.array([row["timestamp"] for row in rows], dtype=float))

    def training_time(self, timestamps: np.ndarray) -> np.ndarray:
        """Training time (s) at wall-clock ``timestamps``: the evaluation rows pair the two
        clocks, so count on from the last evaluation before each (from the first
        timestamp when there is none). Approximate: the time an evaluation takes and a
        resumed run's pause count as training."""
        evaluations = self.run.evaluations
        if not evaluations or timestamps.size == 0:
            return timestamps - (timestamps.min() if timestamps.size else 0.0)
        clock = np.array([row["timestamp"] for row in evaluations], dtype=float)
        trained = np.array([row["wall_time"] for row in evaluations], dtype=float)
        before = np.clip(np.searchsorted(clock, timestamps, side="right") - 1, 0, None)
        return np.maximum(trained[before] + timestamps - clock[before], 0.0)

    def stage_entries(self, x: str) -> dict[int, float]:
        """Each curriculum stage the run entered after its first, and where it first did."""
        if not self.run.metrics.is_file():
            return {}
        rows = read_rows(
            self.run.metrics,
            "SELECT t.to_stage AS stage, e.episode, e.timestamp, e.env_steps "
            "FROM curriculum_transitions t JOIN episodes e ON e.episode = t.episode "
            "ORDER BY t.episode",
        )
        where = self.episode_x(rows, x)
        entries: dict[int, float] = {}
        for row, at in zip(rows, where, strict=True):
            entries.setdefault(int(row["stage"]), float(at))
        return entries


def _group_curve(
    group: RunGroup, found: list[tuple[Series, bool]], *, reps: int, seed: int
) -> Curve:
    spans = [(s.x[0], s.x[-1]) for s, finished in found if finished] or [
        (s.x[0], s.x[-1]) for s, _ in found
    ]
    label = f"{group.id}: {group.description}"
    if len(found) == 1:  # one run: its own points, nothing to combine
        ((series, _),) = found
        return Curve(group.id, label, series.x, series.y, series.y, series.y, 1)
    start, end = max(a for a, _ in spans), min(b for _, b in spans)
    if end < start:  # finished runs that share no x: show all of them
        start, end = min(s.x[0] for s, _ in found), max(s.x[-1] for s, _ in found)
    grid = np.linspace(start, end, POINTS) if end > start else np.array([start])
    values = np.full((len(found), grid.size), np.nan)
    for row, (series, _) in enumerate(found):
        inside = (grid >= series.x[0]) & (grid <= series.x[-1])
        values[row, inside] = np.interp(grid[inside], series.x, series.y)
    iqm, low, high = curve_estimate(values, reps=reps, seed=seed)
    return Curve(group.id, label, grid, iqm, low, high, len(found))


def _stage_changes(group: RunGroup, tables: list[_RunTables], x: str) -> list[StageChange]:
    reached: dict[int, list[float]] = {}
    for table in tables:
        for stage, at in table.stage_entries(x).items():
            reached.setdefault(stage, []).append(at)
    return [
        StageChange(group.id, stage, float(np.median(xs))) for stage, xs in sorted(reached.items())
    ]


def _series(x: np.ndarray, y: np.ndarray) -> Series | None:
    kept = ~np.isnan(y) & ~np.isnan(x)
    if not kept.any():
        return None
    order = np.argsort(x[kept], kind="stable")
    return Series(x[kept][order], y[kept][order])


def _blocks(series: Series, *, last: bool) -> Series:
    """The series averaged over at most BLOCKS runs of consecutive points (or, with
    ``last``, the last value of each: a stage is not averaged)."""
    edges = np.linspace(0, series.y.size, min(series.y.size, BLOCKS) + 1).round().astype(int)
    ends = edges[1:] - 1
    if last:
        return Series(series.x[ends], series.y[ends])
    sums = np.add.reduceat(series.y, edges[:-1])
    return Series(series.x[ends], sums / np.diff(edges))


def _nothing_to_draw(metric: Metric) -> RunError:
    if metric.table == "evaluations":
        hint = (
            "runs evaluate every evaluation.every_episodes episodes (training.yaml); one "
            "from before evaluations existed has none: draw its training figures with "
            "--metric train_survival"
        )
    else:
        hint = "the runs have no finished episode yet: wait for one"
    return RunError(
        Diagnostic(
            "E310",
            f"no run has figures for --metric {metric.name} ({metric.label})",
            hint=hint,
            file="<command line>",
            path="--metric",
        )
    )

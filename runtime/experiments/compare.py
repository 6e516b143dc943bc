"""``hamlet compare``: did the change help? Runs grouped by what they ran, each group's
final score over its seeds, and how often one group's run beats another's.

A run's score is the mean survival of its final evaluation (the greedy policy at full
difficulty, see :mod:`hamlet.runtime.runs.curve`); a run that has not finished counts with
its last evaluation and is named as unfinished. Per group the table shows the IQM over
seeds with its 95% stratified bootstrap interval, and per pair of groups the probability
of improvement, all as :mod:`.stats` computes them.
"""

from __future__ import annotations

import collections
import itertools
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hamlet.runtime.text import text_table
from hamlet.schemas.errors import Diagnostic, HamletWarning, RunError

from .curves import check_axes, learning_curves
from .groups import RunGroup, find_runs, group_runs
from .plots import check_plot_file, require, save_figure, terminal_plot
from .stats import DEFAULT_REPS, Estimate, check_reps, improvement_estimate, iqm_estimate

SCORE = "mean_survival"
"""The column of a run's final evaluation that is its score."""


@dataclass(frozen=True)
class Improvement:
    """P(X > Y) of two groups (``x`` and ``y`` are their ids)."""

    x: str
    y: str
    estimate: Estimate


@dataclass(frozen=True)
class Comparison:
    """Groups, their scores over seeds, and the probability of improvement of each pair."""

    groups: list[RunGroup]
    scores: dict[str, Estimate | None]
    """Per group id, the IQM of its runs' scores (None: no run evaluated yet)."""
    improvements: list[Improvement]
    reps: int
    seed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "score": f"{SCORE} of each run's final evaluation",
            "statistic": "IQM over seeds, 95% stratified bootstrap interval",
            "reps": self.reps,
            "seed": self.seed,
            "groups": [
                {
                    "id": group.id,
                    "pack": group.pack,
                    "settings": group.settings,
                    "also_settings": group.also,
                    "config_differs": group.variant or None,
                    "iqm": _json_estimate(self.scores[group.id]),
                    "runs": [
                        {
                            "path": str(run.path),
                            "seed": run.seed,
                            "status": run.status,
                            "finished": run.finished,
                            "episode": None if run.final is None else run.final["episode"],
                            "score": None if run.final is None else run.final[SCORE],
                        }
                        for run in group.runs
                    ],
                }
                for group in self.groups
            ],
            "improvements": [
                {"x": i.x, "y": i.y, "probability": _json_estimate(i.estimate)}
                for i in self.improvements
            ],
        }


def compare_runs(
    paths: Sequence[str | Path], *, reps: int = DEFAULT_REPS, seed: int = 0
) -> Comparison:
    """Find the runs under ``paths``, group them and score the groups (E310 when no run
    has an evaluation yet)."""
    check_reps(reps)
    groups = group_runs(find_runs(paths))
    if not any(group.evaluated for group in groups):
        runs = sum(len(group.runs) for group in groups)
        raise RunError(
            Diagnostic(
                "E310",
                f"none of the {runs} run(s) has an evaluation yet, so there is nothing to compare",
                hint="runs evaluate every evaluation.every_episodes episodes (training.yaml) "
                "and at their end; one from before evaluations existed has none (score its "
                "checkpoints with hamlet eval)",
                file=str(paths[0]) if len(paths) == 1 else None,
            )
        )
    scores = {
        group.id: iqm_estimate(_scores(group), reps=reps, seed=seed) if group.evaluated else None
        for group in groups
    }
    improvements = [
        Improvement(a.id, b.id, improvement_estimate(_scores(a), _scores(b), reps=reps, seed=seed))
        for a, b in itertools.combinations(groups, 2)
        if a.evaluated and b.evaluated
    ]
    return Comparison(groups, scores, improvements, reps, seed)


def format_comparison(comparison: Comparison) -> str:
    """The comparison as aligned tables with notes on unfinished and unevaluated runs."""
    rows = [("group", "pack", "settings", "runs", "final evaluation", "IQM survival", "95% CI")]
    for group in comparison.groups:
        estimate = comparison.scores[group.id]
        rows.append(
            (
                group.id, group.pack, group.changes, _run_count(group),
                _episodes(group), "-" if estimate is None else f"{estimate.value:.1f}",
                "-" if estimate is None else f"[{estimate.low:.1f}, {estimate.high:.1f}]",
            )
        )  # fmt: skip
    lines = text_table(rows, right_from=3)
    lines.append(
        f"score: a run's final evaluation ({SCORE}, greedy at full difficulty); IQM over "
        f"seeds, 95% stratified bootstrap interval ({comparison.reps} resamples)"
    )
    if comparison.improvements:
        lines += ["", "probability of improvement: how often a run of X scores above a run of Y"]
        pairs = [("X", "Y", "P(X > Y)", "95% CI")] + [
            (i.x, i.y, f"{i.estimate.value:.2f}", f"[{i.estimate.low:.2f}, {i.estimate.high:.2f}]")
            for i in comparison.improvements
        ]
        lines += text_table(pairs, right_from=2)
    lines += _notes(comparison.groups)
    return "\n".join(lines)


def compare_command(
    paths: Sequence[str | Path],
    *,
    as_json: bool = False,
    plot: str | Path | None = None,
    x: str = "agent_steps",
    metrics: Sequence[str] | None = None,
    reps: int = DEFAULT_REPS,
    color: bool | None = None,
) -> str:
    """``hamlet compare``: the comparison as text (or JSON), and its learning curves drawn
    into ``plot`` or, for text without ``plot``, shown as text after the tables when
    plotext is installed. Returns what to print."""
    file = None if plot is None else check_plot_file(plot)
    check_axes(x, metrics)
    if file is not None:
        require("matplotlib")  # before the work, not after it
    comparison = compare_runs(paths, reps=reps)
    title = f"{len(comparison.groups)} group(s), IQM over seeds"
    if file is not None:
        curves = learning_curves(comparison.groups, x=x, metrics=metrics, reps=reps)
        save_figure(curves, file, title=f"{title}, 95% bootstrap band")
    if as_json:
        data = comparison.to_json()
        if file is not None:
            data["plot"] = str(file)
        return json.dumps(data, indent=2)
    text = format_comparison(comparison)
    if file is not None:
        return f"{text}\n\nwrote {file}"
    try:
        require("plotext")
    except RunError as error:  # the tables are still the answer (E303, as a warning)
        warnings.warn(HamletWarning(error.errors[0]), stacklevel=2)
        return text
    curves = learning_curves(comparison.groups, x=x, metrics=metrics, reps=reps)
    return f"{text}\n\n{terminal_plot(curves, color=color, title=title)}"


def _scores(group: RunGroup) -> list[float]:
    return [float(run.final[SCORE]) for run in group.evaluated if run.final is not None]


def _run_count(group: RunGroup) -> str:
    evaluated, total = len(group.evaluated), len(group.runs)
    count = str(total) if evaluated == total else f"{evaluated} of {total}"
    unfinished = sum(not run.finished for run in group.runs)
    return f"{count} ({unfinished} unfinished)" if unfinished else count


def _episodes(group: RunGroup) -> str:
    """The episode(s) of the group's final evaluations: ``episode 400``, ``300-400``."""
    episodes = sorted({run.final["episode"] for run in group.evaluated if run.final})
    if not episodes:
        return "none yet"
    if len(episodes) == 1:
        return f"episode {episodes[0]}"
    return f"episodes {episodes[0]}-{episodes[-1]}"


def _notes(groups: Sequence[RunGroup]) -> list[str]:
    unfinished = [
        (g.id, run) for g in groups for run in g.runs if not run.finished and run.final is not None
    ]
    missing = [(g.id, run) for g in groups for run in g.runs if run.final is None]
    lines = []
    if unfinished:
        lines += ["", "unfinished, counted with their last evaluation:"]
        lines += [
            f"  {gid}  {run.path}  {run.status}, last evaluated at episode {run.final['episode']}"
            for gid, run in unfinished
            if run.final is not None
        ]
    if missing:
        lines += ["", "no evaluation yet, left out:"]
        lines += [f"  {gid}  {run.path}  {run.status}" for gid, run in missing]
    repeated = _repeated_seeds(groups)
    if repeated:
        lines += ["", "seeds run more than once in a group (each run counts as a sample; "
                  "a repeat of a seed is not an independent one):"]  # fmt: skip
        lines += [f"  {gid}  seed {seed}: {count} runs" for gid, seed, count in repeated]
    return lines


def _repeated_seeds(groups: Sequence[RunGroup]) -> list[tuple[str, int, int]]:
    """``(group, seed, runs)`` for each seed that more than one evaluated run of a group
    used (the same seed with another budget, or run again)."""
    found = []
    for group in groups:
        counts = collections.Counter(run.seed for run in group.evaluated if run.seed is not None)
        found += [(group.id, seed, n) for seed, n in sorted(counts.items()) if n > 1]
    return found


def _json_estimate(estimate: Estimate | None) -> dict[str, Any] | None:
    return None if estimate is None else estimate.to_json()

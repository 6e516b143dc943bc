"""Does it learn at the defaults? Every pack over seeds, against its target.

Run: ``python tools/bench/learning.py [--packs PACK ...] [--seeds 5] [--plots docs/images]``.

For each pack this runs ``hamlet sweep PACK --seeds S --minutes M`` with nothing else
set: a plain ``hamlet run PACK`` for the pack's wall budget ``M`` (below), one run per
core. Then ``hamlet compare --json`` scores the sweep: the IQM over seeds of each run's
final evaluation (greedy, full difficulty) with its 95% stratified bootstrap interval.
The table sets that beside the hand-written heuristic, a random valid-action policy and
always-WAIT (``hamlet eval``'s baselines: 100 episodes at full difficulty, seed 0) and
says whether the target is met. ``--plots DIR`` also draws each pack's learning curves
(``hamlet compare --plot DIR/learning-PACK.png``), the pictures docs/TRAINING.md shows.

A sweep that already exists under ``--out`` is resumed, not run again: run the command
twice and the second only prints the table. The budgets are wall time on a 2-core
machine, so a faster machine trains further in the same minutes.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hamlet.configs import PACK_NAMES
from hamlet.runtime import HamletModel
from hamlet.runtime.experiments.extras import require
from hamlet.runtime.runs import evaluate
from hamlet.schemas import load_pack
from hamlet.schemas.errors import HamletError


@dataclass(frozen=True)
class Target:
    """A pack's wall budget and what its IQM must reach (the learning issue's table)."""

    minutes: float
    share: float
    """Of the heuristic's survival."""
    over_baselines: float | None = None
    """The CI's low end must exceed this times max(random, always-WAIT)."""
    at_least: float | None = None
    """And the IQM at least this, when the heuristic reaches the episode cap."""

    def describe(self) -> str:
        parts = [f"IQM >= {self.share:.0%} heuristic"]
        if self.at_least is not None:
            parts.append(f">= {self.at_least:g}")
        if self.over_baselines is not None:
            parts.append(f"CI low > {self.over_baselines:g} x baselines")
        return ", ".join(parts)


TARGETS = {
    "L0_0_minimal": Target(3, 0.90, over_baselines=1.3),
    "L0_5_dual_resource": Target(5, 0.90),
    "L1_full_observability": Target(10, 0.95, at_least=450),
    "L2_partial_observability": Target(20, 0.75, over_baselines=1.3),
    "L3_temporal_mechanics": Target(20, 0.70, over_baselines=1.3),
}
CAP = 500


def hamlet(*args: str, capture: bool = False) -> str:
    """The ``hamlet`` command of this Python, as a user would type it; a failure ends the
    benchmark with the command's own message and status."""
    command = [sys.executable, "-m", "hamlet.runtime.cli", *args]
    done = subprocess.run(command, text=True, capture_output=capture)
    if done.returncode != 0:
        if capture:
            sys.stderr.write(done.stdout + done.stderr)
        print(f"learning.py: `hamlet {' '.join(args)}` failed", file=sys.stderr)
        sys.exit(done.returncode)
    return done.stdout if capture else ""


def baselines(pack_name: str) -> dict[str, float]:
    """Mean survival of the heuristic, random and always-WAIT (as ``hamlet eval``)."""
    pack = load_pack(pack_name)
    untrained = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    scores = evaluate(untrained, pack, episodes=100)
    return {s.policy: s.mean_survival for s in scores if s.policy != "greedy"}


def final_stage_reached(run_dirs: list[str], stages: int) -> int:
    """How many of the runs played an episode at the curriculum's last stage."""
    reached = 0
    for run_dir in run_dirs:
        db = sqlite3.connect(Path(run_dir) / "metrics.sqlite")
        try:
            (top,) = db.execute("SELECT MAX(stage) FROM episodes").fetchone()
        finally:
            db.close()
        reached += top is not None and top >= stages
    return reached


def verdict(target: Target, iqm: float, low: float, base: dict[str, float]) -> bool:
    met = iqm >= target.share * base["heuristic"]
    if target.at_least is not None and base["heuristic"] >= CAP:
        met = met and iqm >= target.at_least
    if target.over_baselines is not None:
        met = met and low > target.over_baselines * max(base["random"], base["always-WAIT"])
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packs", nargs="+", default=list(PACK_NAMES), choices=PACK_NAMES)
    parser.add_argument("--seeds", type=int, default=5, help="runs per pack (default 5)")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--out", default="sweeps", help="where the sweep folders go")
    parser.add_argument("--plots", type=Path, default=None, help="draw learning curves here")
    parser.add_argument(
        "--minutes", type=float, default=None,
        help="every pack's budget instead of its own (a quick look; the targets need theirs)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.plots is not None:
        try:  # before an hour of training, not after it
            require("matplotlib", "plot", "drawing learning curves", "--plots")
        except HamletError as error:
            sys.exit(str(error))

    rows = []
    for name in args.packs:
        target = TARGETS[name]
        minutes = target.minutes if args.minutes is None else args.minutes
        sweep = f"learning-{name}-{round(minutes * 60)}s"
        command = [name, "--seeds", str(args.seeds), "--minutes", f"{minutes:g}"]
        command += ["--name", sweep, "--out", args.out]
        if args.workers is not None:
            command += ["--workers", str(args.workers)]
        print(f"== {name}: {args.seeds} seeds x {minutes:g} min at the defaults", flush=True)
        hamlet("sweep", *command)
        folder = str(Path(args.out) / sweep)
        group = json.loads(hamlet("compare", folder, "--json", capture=True))["groups"][0]
        if args.plots is not None:
            args.plots.mkdir(parents=True, exist_ok=True)
            plot = args.plots / f"learning-{name}.png"
            hamlet("compare", folder, "--plot", str(plot), "--metric", "eval_survival",
                   "--metric", "stage", capture=True)  # fmt: skip
            print(f"wrote {plot}")
        base = baselines(name)
        iqm = group["iqm"]
        value, (low, high) = iqm["value"], iqm["ci"]
        stages = len(load_pack(name).training.curriculum.stages)
        top = final_stage_reached([run["path"] for run in group["runs"]], stages)
        rows.append((name, target, minutes, len(group["runs"]), value, low, high, base, top))

    print()
    header = ("pack", "budget", "seeds", "IQM [95% CI]", "% heur.", "heuristic", "random",
              "WAIT", "last stage", "target", "met")  # fmt: skip
    table = [header]
    for name, target, minutes, seeds, value, low, high, base, top in rows:
        table.append((
            name, f"{minutes:g} min", str(seeds), f"{value:.1f} [{low:.1f}, {high:.1f}]",
            f"{value / base['heuristic']:.0%}", f"{base['heuristic']:.1f}",
            f"{base['random']:.1f}", f"{base['always-WAIT']:.1f}", f"{top}/{seeds} runs",
            target.describe(),
            "yes" if verdict(target, value, low, base) else "NO",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(
        "score: greedy mean survival at full difficulty in each run's final evaluation; "
        "IQM over seeds with its 95% bootstrap CI. Baselines: 100 episodes, seed 0; the "
        "heuristic sees the true world state. last stage: runs whose curriculum reached "
        "its final stage."
    )


if __name__ == "__main__":
    main()

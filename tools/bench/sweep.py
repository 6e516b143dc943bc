"""Does a sweep use its workers? W local workers on W free cores against one run alone.

Every run has the same budget in agent-steps and no learning-curve evaluations; its
rate is its agent-steps over its training time (both from its run_state). In each
round, side by side:

* ``single``: a sweep of one run on one worker;
* ``sweep``: a sweep of W runs on W workers (its rate: the sum of its runs' rates);
* ``plain``: W runs as W plain processes started at once, without the sweep's driver
  and workers (what the machine itself gives W runs at once).

The target is sweep >= 0.9 x W x single; sweep against plain is what the sweep's own
machinery costs, plain against W x single what the cores cost each other.

    python tools/bench/sweep.py                      # W = the number of cores, 2 rounds
    python tools/bench/sweep.py --workers 2 --agent-steps 300000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from hamlet.runtime.experiments.manifest import Manifest
from hamlet.runtime.experiments.sweep import run_sweep, sweep_from_command_line
from hamlet.runtime.runs import read_state

PLAIN = """
import sys, torch
torch.set_num_threads(1)
from hamlet.runtime.runs import RunOptions, read_state, run_training
run = run_training(RunOptions(pack=sys.argv[1], agents=int(sys.argv[2]),
    agent_steps=int(sys.argv[3]), out=sys.argv[4], overrides=["evaluation.every_episodes=0"]))
state = read_state(run.run_dir / "metrics.sqlite")
print(state["agent_steps_done"] / state["train_seconds"])
"""


def rate(run_dir: Path) -> float:
    state = read_state(run_dir / "metrics.sqlite")
    return state["agent_steps_done"] / state["train_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pack", default="L0_0_minimal")
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--agent-steps", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    w = args.workers
    results: dict[str, list[float]] = {"single": [], "sweep": [], "plain": []}
    with tempfile.TemporaryDirectory() as out:
        for round_ in range(args.rounds):

            def sweep(name: str, seeds: int, round_: int = round_) -> float:
                spec = sweep_from_command_line(
                    [args.pack], seeds=seeds, agent_steps=args.agent_steps,
                    agents=args.agents, workers=seeds, name=f"{name}{round_}",
                    sets=["evaluation.every_episodes=0"],
                )  # fmt: skip
                folder = run_sweep(spec, out=out, quiet=True).folder
                return sum(rate(folder / r["run_dir"]) for r in Manifest.read(folder).runs)

            results["single"].append(sweep("single", 1))
            results["sweep"].append(sweep("sweep", w))
            command = [sys.executable, "-c", PLAIN, args.pack, str(args.agents)]
            arguments = [str(args.agent_steps)]
            plain = [
                subprocess.Popen(
                    [*command, *arguments, f"{out}/plain{round_}_{i}"],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for i in range(w)
            ]
            results["plain"].append(sum(float(p.communicate()[0]) for p in plain))
    single, sweep_rate, plain_rate = (statistics.median(results[k]) for k in results)
    print(f"{args.pack}, {args.agents} agents per run, {args.agent_steps:,} agent-steps each, "
          f"W = {w}, median of {args.rounds} rounds (agent-steps/s)")  # fmt: skip
    for name, values in results.items():
        print(f"  {name:7} {statistics.median(values):10,.0f}   rounds: "
              + ", ".join(f"{v:,.0f}" for v in values))  # fmt: skip
    print(f"sweep / (W x single) = {sweep_rate / (w * single):.2f}   (target >= 0.90)")
    print(f"plain / (W x single) = {plain_rate / (w * single):.2f}   (what the cores give)")
    print(f"sweep / plain        = {sweep_rate / plain_rate:.2f}   (what the sweep costs)")


if __name__ == "__main__":
    main()

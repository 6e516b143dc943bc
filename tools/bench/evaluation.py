"""What the learning curve costs: the share of a run's wall time spent in its periodic
greedy evaluations, at the shipped defaults of each pack (training.yaml's `evaluation`).

Each case is an ordinary run (`hamlet run PACK` with the given agents and budget); the
run measures the time inside its evaluations and its whole training time, and keeps both
in `run_state`. The README's main job is the first case.

    python tools/bench/evaluation.py                 # the cases below, ~6 minutes
    python tools/bench/evaluation.py --quick         # a few seconds each (a smoke test)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from hamlet.runtime.runs import RunOptions, read_evaluations, read_state, run_training

CASES = [
    # (pack, agents, episodes, minutes): the README's main job, then 1-agent defaults
    ("L0_0_minimal", 16, 400, None),
    ("L1_full_observability", 1, None, 2.0),
    ("L2_partial_observability", 1, None, 2.0),
    ("L1_full_observability", 64, None, 1.0),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="0.1 minutes per case")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'pack':26} {'agents':>6} {'episodes':>8} {'evals':>5} {'eval s':>7} "
          f"{'run s':>7} {'share':>6}")  # fmt: skip
    with tempfile.TemporaryDirectory() as out:
        for pack, agents, episodes, minutes in CASES:
            if args.quick:
                episodes, minutes = None, 0.1
            options = RunOptions(
                pack=pack, agents=agents, episodes=episodes, minutes=minutes, out=Path(out)
            )
            result = run_training(options)
            db = result.run_dir / "metrics.sqlite"
            state = read_state(db)
            evals, run = state["evaluation_seconds"], state["train_seconds"]
            print(
                f"{pack:26} {agents:>6} {result.episodes:>8} {len(read_evaluations(db)):>5} "
                f"{evals:>7.2f} {run:>7.1f} {evals / run:>6.1%}"
            )


if __name__ == "__main__":
    main()

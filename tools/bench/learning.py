"""Does it learn? Train a pack for some minutes, then evaluate at full difficulty.

Run: ``python tools/bench/learning.py PACK --minutes M [--seed S] [--agents N]``.
Training runs as ``hamlet run`` would (a run directory under ``--out``), stopping after
``M`` minutes. The final model is then evaluated greedily at full difficulty (the
last curriculum stage's depletion multiplier, 1.0 in the shipped packs) over
``--episodes`` episodes, next to the hand-written heuristic, a random valid-action
policy and always-WAIT, and the curriculum stages reached during training are listed.
Survival during training is no evidence by itself: the curriculum changes the
difficulty.

For reference, the original system's L1 policy after 6 minutes of training here
survived 284 steps at full difficulty, against 164 for always-WAIT.
"""

from __future__ import annotations

import argparse
import sqlite3

import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.runs import RunOptions, evaluate, format_scores, run_training
from hamlet.schemas import load_pack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pack", help="a config pack name or folder")
    parser.add_argument("--minutes", type=float, default=10.0, help="training time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--agents", type=int, default=64, help="agents sharing the learner")
    parser.add_argument("--episodes", type=int, default=200, help="evaluation episodes")
    parser.add_argument("--out", default="runs/bench", help="where the run directory goes")
    args = parser.parse_args()
    torch.set_num_threads(1)

    pack = load_pack(args.pack)
    result = run_training(
        RunOptions(
            pack=args.pack,
            seed=args.seed,
            agents=args.agents,
            out=args.out,
            minutes=args.minutes,
            episodes=10**9,
            checkpoint_every=10**9,
        )
    )
    db = sqlite3.connect(result.run_dir / "metrics.sqlite")
    stages = [row[0] for row in db.execute("SELECT DISTINCT stage FROM episodes ORDER BY stage")]
    moves = db.execute(
        "SELECT episode, from_stage, to_stage, reason FROM curriculum_transitions ORDER BY episode"
    ).fetchall()
    db.close()
    model_file = sorted((result.run_dir / "checkpoints").glob("model_ep*.pt"))[-1]
    model = HamletModel.load(model_file)
    full = pack.training.curriculum.stages[-1].depletion_multiplier
    scores = evaluate(
        model,
        pack,
        episodes=args.episodes,
        multiplier=full,
        seed=args.seed + 1,
        layout=model.metadata.get("affordance_layout"),
    )
    print(
        f"trained {pack.name} for {args.minutes:g} min with {args.agents} agents: "
        f"{result.episodes} episodes, {result.env_steps * args.agents:,} agent-steps"
    )
    print(f"curriculum stages played: {stages}; transitions: {len(moves)}")
    for episode, a, b, reason in moves:
        print(f"  episode {episode}: {reason} {a} -> {b}")
    print(format_scores(scores, title=f"evaluation of {model_file.name} at multiplier {full:g}"))
    print(f"run directory: {result.run_dir}")


if __name__ == "__main__":
    main()

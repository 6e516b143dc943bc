"""Benchmark the town simulation: agent-steps per second with random valid actions.

Run: ``python tools/bench/env.py [--steps N] [--quick]``. For L1_full_observability
and L3_temporal_mechanics, a ``TownWorld`` of 1, 64 and 1024 agents (seed 0, depletion
multiplier 1.0) runs the loop of a trainer whose policy is random: read the action
mask, draw a uniformly random valid action per agent
(``hamlet.runtime.world.random_valid_actions``), step, and reset the agents whose
episode ended (``world.reset(ended, obs=result.obs)``). After 20 untimed steps, ``N``
steps (default 1000; ``--quick``: 20, a smoke test) are timed three times and the
best run is kept. PyTorch runs on one thread, on the CPU.

Columns: ``agents``; ``us/step``, the wall time of one loop iteration (all agents);
``agent-steps/s``, agents x iterations per second, the figure the target is about.
Target: at least 1,000,000 agent-steps/s at 1024 agents (L1).
"""

from __future__ import annotations

import argparse
import time

import torch

from hamlet.runtime.world import TownWorld, random_valid_actions

PACKS = ("L1_full_observability", "L3_temporal_mechanics")
AGENTS = (1, 64, 1024)
WARMUP = 20
TARGET = 1_000_000


def seconds_per_step(world: TownWorld, steps: int) -> float:
    """Best of three timed runs of ``steps`` loop iterations, in seconds per iteration."""
    policy = torch.Generator().manual_seed(0)

    def run(count: int) -> None:
        for _ in range(count):
            actions = random_valid_actions(world.action_mask(), policy)
            result = world.step(actions, 1.0)
            ended = result.done | result.truncated
            if bool(ended.any()):
                world.reset(ended, obs=result.obs)

    world.reset()
    run(WARMUP)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run(steps)
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="timed steps per run")
    parser.add_argument("--quick", action="store_true", help="20 steps per run (smoke test)")
    args = parser.parse_args()
    steps = 20 if args.quick else args.steps
    torch.set_num_threads(1)

    print(f"random valid actions, best of 3 runs of {steps} steps (1 thread, cpu)")
    print(f"{'pack':<26}{'agents':>7}{'us/step':>10}{'agent-steps/s':>15}")
    rates = {}
    for pack in PACKS:
        for agents in AGENTS:
            seconds = seconds_per_step(TownWorld(pack, agents, seed=0), steps)
            rates[(pack, agents)] = agents / seconds
            print(f"{pack:<26}{agents:>7}{seconds * 1e6:>10.1f}{agents / seconds:>15,.0f}")
    reached = rates[(PACKS[0], AGENTS[-1])]
    verdict = "met" if reached >= TARGET else "not met"
    print(f"target: >= {TARGET:,} agent-steps/s at {AGENTS[-1]} agents (L1): {verdict}")


if __name__ == "__main__":
    main()

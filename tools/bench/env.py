"""Benchmark the town simulation: agent-steps per second with random valid actions.

Run: ``python tools/bench/env.py [--steps N] [--agents 1,64,1024,16384] [--device D]
[--quick]``. For L1_full_observability and L3_temporal_mechanics, a ``TownWorld`` of
each agent count (seed 0, depletion multiplier 1.0) runs the loop of a trainer whose
policy is random. The loop reads the action mask, draws a uniformly random valid
action per agent (``hamlet.runtime.world.random_valid_actions``), steps, and resets the
agents whose episode ended (``world.reset(ended, obs=result.obs)``). After 20 untimed
steps, ``N`` steps are timed three times and the best run is kept. ``N`` defaults to
1000, or 20 with ``--quick`` (a smoke test). PyTorch runs on one thread. On CUDA
(``--device cuda``, with e.g. ``--agents 1024,4096,16384,65536``) each timed run ends
with a synchronisation, so the GPU's work is all counted.

Columns:

* ``agents``;
* ``us/step``: the wall time of one loop iteration (all agents);
* ``agent-steps/s``: agents x iterations per second, the figure the goals are about.

Goals: at least 1,000,000 agent-steps/s at 1024 agents on the CPU (L1); on one
H200-class GPU, 50M or more at 64k agents.
"""

from __future__ import annotations

import argparse
import time

import torch

from hamlet.runtime.world import TownWorld, random_valid_actions

PACKS = ("L1_full_observability", "L3_temporal_mechanics")
AGENTS = "1,64,1024,16384"
WARMUP = 20
TARGET = 1_000_000


def seconds_per_step(world: TownWorld, steps: int) -> float:
    """Best of three timed runs of ``steps`` loop iterations, in seconds per iteration."""
    policy = torch.Generator(world.device).manual_seed(0)

    def run(count: int) -> None:
        for _ in range(count):
            actions = random_valid_actions(world.action_mask(), policy)
            result = world.step(actions, 1.0)
            ended = result.done | result.truncated
            if bool(ended.any()):
                world.reset(ended, obs=result.obs)
        if world.device.type == "cuda":
            torch.cuda.synchronize(world.device)

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
    parser.add_argument("--agents", default=AGENTS, help=f"agent counts (default {AGENTS})")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args()
    steps = 20 if args.quick else args.steps
    counts = [int(a) for a in args.agents.split(",")]
    torch.set_num_threads(1)

    print(f"random valid actions, best of 3 runs of {steps} steps (1 thread, {args.device})")
    print(f"{'pack':<26}{'agents':>7}{'us/step':>10}{'agent-steps/s':>15}")
    rates = {}
    for pack in PACKS:
        for agents in counts:
            world = TownWorld(pack, agents, seed=0, device=args.device)
            seconds = seconds_per_step(world, steps)
            rates[(pack, agents)] = agents / seconds
            print(f"{pack:<26}{agents:>7}{seconds * 1e6:>10.1f}{agents / seconds:>15,.0f}")
    if args.device == "cpu" and (PACKS[0], 1024) in rates:
        verdict = "met" if rates[(PACKS[0], 1024)] >= TARGET else "not met"
        print(f"target: >= {TARGET:,} agent-steps/s at 1024 agents (L1, cpu): {verdict}")


if __name__ == "__main__":
    main()

"""Benchmark training throughput: agent-steps per second with learning on.

Run: ``python tools/bench/train.py [--steps N] [--quick]``. For L1 (simple_q) and L2
(the recurrent brain), at 1 and at 64 agents, a Trainer is built from the pack,
stepped until learning has started, then timed over ``N`` environment steps
(``N`` agent-steps per agent). Everything counts: acting, the world, storing,
learning every ``train_frequency`` steps (with the pack brain's batch size), RND and
closing episodes. PyTorch runs on one thread.

The original system trained at about 118 agent-steps/s (MLP) and 24 (LSTM) on this
machine; targets: at least 20x that at 1 agent and 200x at 64 agents.
"""

from __future__ import annotations

import argparse
import time

import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.trainer import Trainer
from hamlet.schemas import load_pack

ORIGINAL = {"L1_full_observability": 118.0, "L2_partial_observability": 24.0}
TARGETS = {1: 20, 64: 200}


def measure(pack_name: str, agents: int, steps: int) -> tuple[float, int]:
    pack = load_pack(pack_name)
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    trainer = Trainer(pack, model, num_agents=agents, seed=0)
    while not trainer.learner.ready:
        trainer.step()
    for _ in range(trainer.train_frequency * 2):
        trainer.step()
    before = trainer.learner.gradient_steps
    start = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    elapsed = time.perf_counter() - start
    return steps * agents / elapsed, trainer.learner.gradient_steps - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="timed environment steps")
    parser.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    args = parser.parse_args()
    steps = 8 if args.quick else args.steps
    torch.set_num_threads(1)
    print(f"training throughput, torch {torch.__version__}, 1 thread, {steps} environment steps")
    header = f"{'pack':<26}{'agents':>7}{'agent-steps/s':>15}{'gradient steps':>16}"
    print(header + f"{'x original':>12}{'target':>8}")
    for pack, original in ORIGINAL.items():
        for agents, target in TARGETS.items():
            rate, grads = measure(pack, agents, steps)
            print(
                f"{pack:<26}{agents:>7}{rate:>15,.0f}{grads:>16}{rate / original:>11.1f}x"
                f"{target:>7}x"
            )


if __name__ == "__main__":
    main()

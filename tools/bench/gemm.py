"""Why an L1 gradient step costs what it does: its matrix products, warm and cold.

Run: ``python tools/bench/gemm.py [--repeats N] [--pack L1|L2]``.

A gradient step of L1 at 1 agent passes a batch of 64 through four networks: the online
and target Q-networks and RND's frozen and predictor networks, twelve linear layers in
all, about 0.8 MiB of weights. This times those twelve products alone, with the
batch's shapes and the trainer's own weights, two ways:

* warm: the twelve one after another, again and again, so their weights stay in the
  core's caches;
* cold: the same, after touching a 16 MiB buffer (what a training step does to the
  caches with the replay, the world and everything else it reads), the touch's own
  time taken off.

It then times whole gradient steps (``DQNLearner.learn``, RND included) of the same
trainer. Where cold is well above warm, the products wait on memory, not on arithmetic,
and fewer operations would not make a step much faster. One torch thread; medians of
``--repeats`` rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from train import SHORT, ready_trainer


def _median_us(fn: Callable[[], object], repeats: int, loops: int) -> float:
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        rounds.append((time.perf_counter() - start) / loops * 1e6)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="rounds per figure")
    parser.add_argument("--pack", choices=["L1", "L2"], default="L1")
    args = parser.parse_args()
    torch.set_num_threads(1)
    pack = next(name for name, short in SHORT.items() if short == args.pack)
    trainer = ready_trainer(pack, 1)
    learner = trainer.learner
    batch = learner.learning["batch_size"]
    nets = [learner.online, learner.target]
    if trainer.rnd is not None:
        nets += [trainer.rnd.frozen, trainer.rnd.predictor]
    layers = [m for net in nets for m in net.modules() if isinstance(m, nn.Linear)]
    inputs = {m.in_features: torch.randn(batch, m.in_features) for m in layers}
    weights = sum(m.weight.numel() + m.bias.numel() for m in layers) * 4

    def products() -> None:
        with torch.no_grad():
            for m in layers:
                F.linear(inputs[m.in_features], m.weight, m.bias)

    buffer = torch.ones(4 * 2**20)  # 16 MiB

    def flush() -> None:
        buffer.mul_(1.0)

    def cold() -> None:
        flush()
        products()

    for fn in (products, cold, learner.learn):
        fn()  # warm up
    warm_us = _median_us(products, args.repeats, 200)
    cold_us = _median_us(cold, args.repeats, 20) - _median_us(flush, args.repeats, 20)
    step_us = _median_us(learner.learn, args.repeats, 50)
    print(
        f"{args.pack}, batch {batch}, {len(layers)} linear layers of the networks a gradient "
        f"step reads ({weights / 2**20:.2f} MiB of weights), torch {torch.__version__}, 1 thread"
    )
    print(f"  their products, warm (one after another):  {warm_us:8,.0f} us")
    print(
        f"  their products, cold (after 16 MiB read):  {cold_us:8,.0f} us  "
        f"({cold_us / warm_us:.2f}x warm)"
    )
    print(f"  a whole gradient step (learn, with RND):   {step_us:8,.0f} us")


if __name__ == "__main__":
    main()

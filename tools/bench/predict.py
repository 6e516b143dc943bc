"""Benchmark ``HamletModel.predict`` against the bare network it wraps.

Run: ``python tools/bench/predict.py [--repeats N] [--warmup N]``. Each built-in
trunk (``simple_q`` in L1_full_observability, ``recurrent_spatial_q`` in
L2_partial_observability, seed 0) is timed at batch 1 (``N`` calls, default 500) and
batch 256 (``N // 5`` calls), after ``--warmup`` untimed calls. PyTorch runs on one
thread so that the figures are stable and comparable between machines and runs.

Rows (the recurrent brain gets the same zero state ``h, c`` in every call):

* ``forward``: ``model.module(obs)`` or ``model.module(obs, h, c)`` under
  ``torch.no_grad()``, the floor any API over the network can reach;
* ``predict``: ``model.predict(obs)`` or ``model.predict(obs, (h, c))``, greedy;
* ``predict eps+mask``: the same with ``epsilon=0.1`` and a random action mask
  (every row keeps at least one allowed action).

The three calls are interleaved round-robin, so that a change in machine load hits
them alike. Columns: ``median`` and ``p90`` of single-call wall times in
microseconds; ``x forward`` is a row's median over the forward median.
Target: greedy ``predict`` at most 1.3x ``forward`` at batch 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from timing import interleaved_times

from hamlet.runtime import HamletModel

BUILTIN_WORLDS = {
    "simple_q": "L1_full_observability",
    "recurrent_spatial_q": "L2_partial_observability",
}
BATCHES = (1, 256)
TARGET = 1.3


def _calls(model: HamletModel, batch: int) -> dict[str, Callable[[], Any]]:
    generator = torch.Generator().manual_seed(0)
    obs = torch.randn(batch, model.obs_dim, generator=generator)
    mask = torch.rand(batch, model.num_actions, generator=generator) < 0.7
    mask[:, -1] = True
    hidden = model.initial_state(batch)
    module = model.module
    if hidden is None:

        def forward() -> Any:
            with torch.no_grad():
                return module(obs)
    else:
        h, c = hidden

        def forward() -> Any:
            with torch.no_grad():
                return module(obs, h, c)

    return {
        "forward": forward,
        "predict": lambda: model.predict(obs, hidden),
        "predict eps+mask": lambda: model.predict(obs, hidden, epsilon=0.1, action_mask=mask),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=500, help="timed calls at batch 1 (batch 256: a fifth)"
    )
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls before timing")
    args = parser.parse_args()
    torch.set_num_threads(1)

    print(
        f"HamletModel.predict vs module forward: microseconds per call, torch "
        f"{torch.__version__}, 1 thread; {args.warmup} warm-up calls, then {args.repeats} "
        f"timed at batch 1 and {max(1, args.repeats // 5)} at batch 256"
    )
    print(f"{'brain':<21}{'batch':>6}  {'call':<18}{'median':>9}{'p90':>9}{'x forward':>11}")
    for brain, world in BUILTIN_WORLDS.items():
        model = HamletModel.from_spec(brain, world=world, seed=0)
        for batch in BATCHES:
            repeats = args.repeats if batch == 1 else max(1, args.repeats // 5)
            times = interleaved_times(_calls(model, batch), args.warmup, repeats)
            floor = float(np.median(times["forward"]))
            for name, values in times.items():
                median = float(np.median(values))
                print(
                    f"{brain:<21}{batch:>6}  {name:<18}{median:>9.1f}"
                    f"{float(np.percentile(values, 90)):>9.1f}{median / floor:>10.2f}x"
                )
    print(f"target: greedy predict <= {TARGET}x forward at batch 1")


if __name__ == "__main__":
    main()

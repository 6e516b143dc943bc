"""Benchmark checkpoint files: inference vs training checkpoints, size on disk and load time.

Run: ``python tools/bench/checkpoint_size.py [--repeats N]``. For the brains of the
L1_full_observability (simple_q) and L2_partial_observability (recurrent_spatial_q)
packs (seed 0), three files are written to a temporary folder:

* ``inference``: ``model.save(path)`` (``inference_v1``: spec, weights, metadata);
* ``training``: ``training_v2`` as the trainer will write it: the online and target
  networks, Adam's state after a few real optimizer steps on TD losses of random
  batches (so ``exp_avg`` and ``exp_avg_sq`` exist), counters, torch's RNG state, the
  pack's four world and run files (bars, cascades, affordances, training) as data, and
  a full replay memory of the brain's ``learning.replay.capacity`` transitions:
  float32 observations and next observations ``[capacity, obs_dim]``, int64 actions,
  float32 extrinsic and intrinsic rewards, bool dones and bool action masks
  ``[capacity, actions]``. The trainer does not exist yet, so the replay holds
  synthetic random data of the real size and dtypes;
* ``training, no replay``: the same without the replay memory.

Columns: ``MB`` is the file size (10^6 bytes); ``HamletModel.load`` and ``torch.load``
(``weights_only=True``) are medians over ``N`` loads (default 10) after one untimed
load, in milliseconds; each ``x inf`` is the ratio to the inference file. The files
were just written, so they are read from the OS page cache. PyTorch runs on one
thread. Target: a training checkpoint at least 5x the size of the inference one.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from hamlet.configs import pack_dir
from hamlet.runtime import HamletModel
from hamlet.runtime.model.checkpoint import TrainingCheckpoint, save_checkpoint

PACKS = {"L1_full_observability": "simple_q", "L2_partial_observability": "recurrent_spatial_q"}
"""Each pack and the built-in brain its brain.yaml extends."""
CONFIG_FILES = ("bars.yaml", "cascades.yaml", "affordances.yaml", "training.yaml")
OPTIMIZER_STEPS = 3
TARGET = 5.0


def synthetic_replay(capacity: int, obs_dim: int, actions: int) -> dict[str, Any]:
    """A full replay memory of random transitions with the trainer's shapes and dtypes."""
    generator = torch.Generator().manual_seed(0)
    return {
        "capacity": capacity,
        "size": capacity,
        "position": 0,
        "obs": torch.randn(capacity, obs_dim, generator=generator),
        "next_obs": torch.randn(capacity, obs_dim, generator=generator),
        "actions": torch.randint(0, actions, (capacity,), generator=generator),
        "rewards_extrinsic": torch.randn(capacity, generator=generator),
        "rewards_intrinsic": torch.randn(capacity, generator=generator),
        "dones": torch.rand(capacity, generator=generator) < 0.01,
        "action_masks": torch.rand(capacity, actions, generator=generator) < 0.8,
    }


def q_sequence(net: nn.Module, obs: Tensor) -> Tensor:
    """Q-values ``[batch, time, actions]`` for ``obs [batch, time, obs_dim]``."""
    if net.recurrent is None:
        return net(obs.flatten(0, 1)).unflatten(0, obs.shape[:2])
    return net.forward_sequence(obs, *net.initial_state(obs.shape[0]))[0]


def train_a_little(
    model: HamletModel, target: nn.Module, learning: dict[str, Any]
) -> torch.optim.Adam:
    """Adam on ``model.module`` for a few TD steps on random batches; returns the optimizer."""
    online = model.module.train()
    optimizer = torch.optim.Adam(online.parameters(), lr=learning["learning_rate"])
    time_steps = learning["sequence"]["length"] if model.is_recurrent else 1
    shape = (learning["batch_size"], time_steps)
    generator = torch.Generator().manual_seed(0)
    for _ in range(OPTIMIZER_STEPS):
        obs = torch.randn(*shape, model.obs_dim, generator=generator)
        next_obs = torch.randn(*shape, model.obs_dim, generator=generator)
        actions = torch.randint(0, model.num_actions, shape, generator=generator)
        rewards = torch.randn(shape, generator=generator)
        with torch.no_grad():
            bootstrap = q_sequence(target, next_obs).max(dim=-1).values
        q_taken = q_sequence(online, obs).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        loss = nn.functional.mse_loss(q_taken, rewards + learning["gamma"] * bootstrap)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(online.parameters(), learning["max_grad_norm"])
        optimizer.step()
    online.eval()
    return optimizer


def write_files(pack: str, folder: Path) -> dict[str, Path]:
    """The inference and training checkpoints of ``pack``'s brain, written to ``folder``."""
    model = HamletModel.from_spec(pack_dir(pack) / "brain.yaml", seed=0)
    learning = model.spec["learning"]
    target = copy.deepcopy(model.module)
    optimizer = train_a_little(model, target, learning)
    capacity = learning["replay"]["capacity"]
    training = TrainingCheckpoint(
        brain_spec=model.spec,
        brain_spec_hash=model.spec_hash,
        online=model.module.state_dict(),
        target=target.state_dict(),
        optimizer=optimizer.state_dict(),
        counters={"episode": 1, "total_steps": capacity, "gradient_steps": OPTIMIZER_STEPS},
        config={name: (pack_dir(pack) / name).read_text() for name in CONFIG_FILES},
        metadata={"pack": pack},
        rng={"torch": torch.get_rng_state()},
        replay=synthetic_replay(capacity, model.obs_dim, model.num_actions),
    )
    files = {
        "inference": model.save(folder / f"{pack}_model.pt"),
        "training": save_checkpoint(training, folder / f"{pack}_checkpoint.pt"),
    }
    training.replay = None
    files["training, no replay"] = save_checkpoint(
        training, folder / f"{pack}_checkpoint_no_replay.pt"
    )
    return files


def median_ms(load: Callable[[], Any], repeats: int) -> float:
    load()  # warm-up: the first load also compiles the brain's class
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed loads per file and loader")
    args = parser.parse_args()
    torch.set_num_threads(1)

    print(
        f"checkpoint size and load time: median ms over {args.repeats} loads, torch "
        f"{torch.__version__}, 1 thread; files read from the OS page cache"
    )
    print(
        "training replay = synthetic random data of the real size and dtypes "
        "(no trainer exists yet)"
    )
    print(
        f"{'pack':<26}{'brain':<21}{'file':<21}{'MB':>8}{'x inf':>8}"
        f"{'HamletModel.load':>18}{'x inf':>8}{'torch.load':>12}{'x inf':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for pack, brain in PACKS.items():
            files = write_files(pack, Path(folder))
            base: dict[str, float] = {}
            for kind, path in files.items():
                figures = {
                    "MB": path.stat().st_size / 1e6,
                    "hamlet": median_ms(lambda p=path: HamletModel.load(p), args.repeats),
                    "torch": median_ms(
                        lambda p=path: torch.load(p, weights_only=True), args.repeats
                    ),
                }
                base = base or figures
                print(
                    f"{pack:<26}{brain:<21}{kind:<21}{figures['MB']:>8.3f}"
                    f"{figures['MB'] / base['MB']:>7.1f}x{figures['hamlet']:>18.2f}"
                    f"{figures['hamlet'] / base['hamlet']:>7.1f}x{figures['torch']:>12.2f}"
                    f"{figures['torch'] / base['torch']:>7.1f}x"
                )
    print(f"target: training checkpoint >= {TARGET}x the inference checkpoint's size")


if __name__ == "__main__":
    main()

"""Benchmark the recurrent memory of L2's brain: one step, a window, a gradient step.

Run: ``python tools/bench/recurrent.py [--repeats N] [--warmup N]``. It builds
``recurrent_spatial_q`` for L2_partial_observability (seed 0) and times its LSTM
alone, then a whole gradient step, on one torch thread, with the calls interleaved
round-robin so that a change in machine load hits them alike. Three tables:

* **One step** (acting, under ``torch.no_grad()``): the LSTM module on a sequence of
  length 1, which is what the generated code called before, against the generated
  ``lstm_step`` it calls now, gate by gate. At batch 1, 16 and 64; ``x kernel`` is a
  row's median over the kernel's.
* **A window** (learning): forward and backward through the LSTM module at batch 16
  (the pack's ``batch_size``) for sequences of 1, 4, 8 and 13 steps. 13 is a whole
  window (burn-in 4, length 8 and the last next state); ``per step`` is the median
  divided by the length. A cost that barely grows with the length is a fixed cost per
  call: cutting steps from the window saves less than their share.
* **A gradient step by part**: L2's whole ``learn()`` at 1 agent (its shipped settings,
  after ``learning_starts``) beside each of its parts called alone: sampling the
  windows, the target network's pass (no gradients), the online burn-in (no gradients),
  the online pass over the trained steps with its backward, the optimizer step (with
  gradient clipping), and RND (novelty of the next states and its predictor's step).
  The parts add up to about the whole; what remains is building the targets and the loss.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from timing import interleaved_times
from train import ready_trainer

from hamlet.runtime import HamletModel

STEP_BATCHES = (1, 16, 64)
WINDOW_BATCH = 16
LENGTHS = (1, 4, 8, 13)


def _lstm(model: HamletModel) -> tuple[torch.nn.LSTM, Callable[..., Any]]:
    """The brain's LSTM module and the generated file's one-step function."""
    lstm = next(m for m in model.module.modules() if isinstance(m, torch.nn.LSTM))
    step = sys.modules[type(model.module).__module__].lstm_step
    return lstm, step


def _step_calls(lstm: torch.nn.LSTM, step: Callable[..., Any], batch: int) -> dict[str, Any]:
    generator = torch.Generator().manual_seed(batch)
    x = torch.randn(batch, lstm.input_size, generator=generator)
    h = torch.randn(lstm.num_layers, batch, lstm.hidden_size, generator=generator)
    c = torch.randn_like(h)

    def kernel() -> Any:
        with torch.no_grad():
            return lstm(x[:, None], (h, c))

    def gates() -> Any:
        with torch.no_grad():
            return step(lstm, x, h, c)

    return {"kernel": kernel, "lstm_step": gates}


def _window_calls(lstm: torch.nn.LSTM) -> dict[str, Any]:
    generator = torch.Generator().manual_seed(0)
    h = torch.zeros(lstm.num_layers, WINDOW_BATCH, lstm.hidden_size)
    calls = {}
    for length in LENGTHS:
        x = torch.randn(WINDOW_BATCH, length, lstm.input_size, generator=generator)

        def train(x: torch.Tensor = x) -> None:
            out, _ = lstm(x, (h, h))
            out.square().mean().backward()

        calls[str(length)] = train
    return calls


def _learn_calls() -> dict[str, Any]:
    """L2's gradient step whole, and each of its parts alone (same batch shapes)."""
    trainer = ready_trainer("L2_partial_observability", 1)
    learner = trainer.learner
    cfg = learner.learning
    burn_in = cfg["sequence"]["burn_in"]
    time = burn_in + cfg["sequence"]["length"]
    batch = learner.replay.sample(cfg["batch_size"], time, learner.generator, 1.0)
    sequence = torch.cat([batch.obs[:, :1], batch.next_obs], dim=1)
    h, c = batch.hidden  # type: ignore[misc]
    online, target = learner.online, learner.target
    with torch.no_grad():
        _, h_warm, c_warm = online.forward_sequence(sequence[:, :burn_in], h, c)
    params = list(online.parameters())

    def sample() -> None:
        learner.replay.sample(cfg["batch_size"], time, learner.generator, 1.0)

    def target_pass() -> None:
        with torch.no_grad():
            target.forward_sequence(sequence, h, c)

    def burn() -> None:
        with torch.no_grad():
            online.forward_sequence(sequence[:, :burn_in], h, c)

    def online_pass() -> None:
        out, _, _ = online.forward_sequence(sequence[:, burn_in:time], h_warm, c_warm)
        out.square().mean().backward()

    def optimizer() -> None:
        torch.nn.utils.clip_grad_norm_(params, cfg["max_grad_norm"])
        learner.optimizer.step()

    def rnd() -> None:
        trainer.rnd.reward(batch.next_obs.reshape(-1, batch.next_obs.shape[-1]))

    online_pass()  # gradients for the optimizer to step with
    return {"learn()": learner.learn, "sample": sample, "target": target_pass,
            "burn-in": burn, "online+bwd": online_pass, "optimizer": optimizer,
            "rnd": rnd}  # fmt: skip


def _median_p90(values: np.ndarray) -> tuple[float, float]:
    return float(np.median(values)), float(np.percentile(values, 90))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300, help="timed calls per row")
    parser.add_argument("--warmup", type=int, default=30, help="untimed calls before timing")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = HamletModel.from_spec("recurrent_spatial_q", world="L2_partial_observability", seed=0)
    lstm, step = _lstm(model)
    print(
        f"L2's LSTM({lstm.input_size}->{lstm.hidden_size}), torch {torch.__version__}, "
        f"1 thread; {args.warmup} warm-up calls, then {args.repeats} timed per row"
    )
    print("one step (acting), microseconds per call:")
    print(f"{'batch':>6}  {'call':<10}{'median':>9}{'p90':>9}{'x kernel':>10}")
    for batch in STEP_BATCHES:
        times = interleaved_times(_step_calls(lstm, step, batch), args.warmup, args.repeats)
        floor = float(np.median(times["kernel"]))
        for name, values in times.items():
            median, p90 = _median_p90(values)
            print(f"{batch:>6}  {name:<10}{median:>9.1f}{p90:>9.1f}{median / floor:>9.2f}x")
    print(f"a window (learning), forward and backward at batch {WINDOW_BATCH}, milliseconds:")
    print(f"{'steps':>6}{'median':>9}{'p90':>9}{'per step':>10}{'x 1 step':>10}")
    repeats = max(1, args.repeats // 5)
    times = interleaved_times(_window_calls(lstm), max(1, args.warmup // 5), repeats)
    one = float(np.median(times["1"]))
    for length, values in times.items():
        median, p90 = _median_p90(values / 1e3)
        print(
            f"{length:>6}{median:>9.2f}{p90:>9.2f}{median / int(length):>10.2f}"
            f"{median * 1e3 / one:>9.2f}x"
        )
    print("a gradient step by part (L2, 1 agent, shipped settings), milliseconds:")
    print(f"{'part':<12}{'median':>9}{'p90':>9}{'x learn()':>11}")
    times = interleaved_times(_learn_calls(), max(1, args.warmup // 5), repeats)
    whole = float(np.median(times["learn()"]))
    for name, values in times.items():
        median, p90 = _median_p90(values / 1e3)
        print(f"{name:<12}{median:>9.2f}{p90:>9.2f}{median * 1e3 / whole:>10.2f}x")


if __name__ == "__main__":
    main()

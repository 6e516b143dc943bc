"""Benchmark training: agent-steps/s, gradient steps/s and where the time goes.

Run: ``python tools/bench/train.py [--seconds S] [--agents 1,16,64,256] [--quick]``.

For L1 (MLP) and L2 (CNN + LSTM), at each agent count, a Trainer is built from the
pack with its shipped settings (seed 0). It steps until learning has started and a few
gradient steps are done, then it is timed for ``S`` seconds of whole steps (default 8).
Everything counts: acting, the world, storing, learning every ``train_frequency``
steps, RND, and closing episodes. PyTorch runs on one thread, on the CPU. The phases
are those ``hamlet run`` shows (:mod:`hamlet.runtime.learning.phases`), read off the
same clock. ``--threads N`` gives PyTorch N threads (``hamlet run`` uses all cores;
a sweep's runs use one each).

The reference column is the original system's 1-agent rate with 1 torch thread, as
measured on the project's first 2-core machine (AMD EPYC without AVX-512): L1 121-145
agent-steps/s, L2 48-55. The ratio is given against both ends. The goals are 3x at 1
agent, and at 64 agents 200x (L1) and 100x (L2). On a faster CPU the ratio overstates:
run an older revision beside this one with ``versions.py`` to see what the machine
adds (docs/PERFORMANCE.md).

The ceiling column is the rate the row would reach if everything but learning (the
``learn`` and ``rnd`` phases) cost nothing: the agent-steps/s over the learning share of
the wall time. Both systems take a gradient step every ``train_frequency`` environment
steps, so no speed-up of acting, the world or storing goes past it; only a cheaper
gradient step (or fewer of them, which changes what is learned) does.

The last table prices the probes. It times a clock lap in a tight loop, counts the
laps a step makes, and compares that cost with the step's time. It then times probes
on against probes off, interleaved on one trainer (L1, 1 agent, the shortest step).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from hamlet.compiler import compile_brain
from hamlet.runtime import HamletModel
from hamlet.runtime.learning.dqn import window_steps
from hamlet.runtime.learning.phases import PHASES, PhaseClock
from hamlet.runtime.learning.trainer import Trainer
from hamlet.schemas import load_pack, observation_layout
from hamlet.schemas.override import parse_overrides

REFERENCE = {"L1_full_observability": (121.0, 145.0), "L2_partial_observability": (48.0, 55.0)}
GOALS = {"L1_full_observability": {1: 3, 64: 200}, "L2_partial_observability": {1: 3, 64: 100}}
SHORT = {"L1_full_observability": "L1", "L2_partial_observability": "L2"}


def ready_trainer(
    pack_name: str, agents: int, device: str = "cpu", learner_process: bool = False
) -> Trainer:
    """A trainer past ``learning_starts`` with a few gradient steps behind it.

    Where the pack's replay capacity would leave an agent less than one training window
    (``hamlet run`` refuses that, E135: L2 past 833 agents, L1 past 10,000), it is raised
    to one window an agent. A step costs the same whatever the capacity; only memory
    grows with it."""
    pack = load_pack(pack_name)
    brain = compile_brain(pack.directory / "brain.yaml", layout=observation_layout(pack))
    learning = brain.to_dict()["learning"]
    window = window_steps(learning, brain.resolved.recurrent is not None)
    if learning["replay"]["capacity"] // agents < window:
        capacity = parse_overrides([f"learning.replay.capacity={agents * window}"])
        brain = compile_brain(
            pack.directory / "brain.yaml", layout=observation_layout(pack),
            overrides=capacity, max_memory=2**40,
        )  # fmt: skip
    model = HamletModel.from_spec(brain, seed=0, device=device)
    trainer = Trainer(
        pack, model, num_agents=agents, seed=0, device=device, learner_process=learner_process
    )
    while not trainer.ready_to_learn:
        trainer.step()
    for _ in range(trainer.train_frequency * 3):
        trainer.step()
    return trainer


def measure(trainer: Trainer, seconds: float) -> dict[str, float]:
    """Step for ``seconds``; rates and the phases' shares of that time."""
    clock = trainer.phases
    clock.restart_window(trainer.env_steps * trainer.num_agents, trainer.gradient_steps)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        trainer.step()
    if trainer.device.type == "cuda":
        torch.cuda.synchronize(trainer.device)  # the GPU's queued work counts too
    window = clock.window(trainer.env_steps * trainer.num_agents, trainer.gradient_steps)
    return {
        "rate": window.agent_steps_per_s,
        "grads": window.gradient_steps_per_s,
        **window.shares,
    }


def ceiling(row: dict[str, float]) -> float:
    """Agent-steps/s if only learning (its gradient steps and RND) took time."""
    learning = row["learn"] + row["rnd"]
    return row["rate"] / learning if learning > 0 else float("inf")


class _Silent(PhaseClock):
    """A clock whose laps do nothing: the trainer without probes."""

    def lap(self, phase: str) -> None:
        pass


def lap_cost(count: int = 200_000) -> float:
    """Seconds per lap, in a tight loop."""
    clock = PhaseClock()
    start = time.perf_counter()
    for _ in range(count):
        clock.lap("act")
    return (time.perf_counter() - start) / count


class _Counting(PhaseClock):
    laps = 0

    def lap(self, phase: str) -> None:
        self.laps += 1
        super().lap(phase)


def probe_cost(seconds: float) -> None:
    trainer = ready_trainer("L1_full_observability", 1)
    counting = _Counting()
    trainer.phases = counting
    for _ in range(400):
        trainer.step()
    laps_per_step = counting.laps / 400
    per_lap = lap_cost()
    probed, silent = PhaseClock(), _Silent()
    times: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(6):  # interleaved blocks: drifts of the machine hit both alike
        for name, clock in (("on", probed), ("off", silent)):
            trainer.phases = clock
            steps, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / 12:
                trainer.step()
                steps += 1
            times[name].append((time.perf_counter() - start) / steps)
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    print("\nthe probes' cost (L1, 1 agent)")
    print(f"  one lap: {per_lap * 1e6:.2f} us; laps per step: {laps_per_step:.1f}")
    print(
        f"  per step: {per_lap * laps_per_step * 1e6:.2f} us of {off * 1e6:,.0f} us "
        f"= {per_lap * laps_per_step / off:.3%} of a step"
    )
    print(
        f"  probes on / off, median of 6 interleaved blocks: {on / off:.3f} "
        f"(the blocks' spread: {min(times['off']) * 1e6:,.0f}-{max(times['off']) * 1e6:,.0f} us)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per row")
    parser.add_argument("--agents", default="1,16,64,256", help="agent counts, comma-separated")
    parser.add_argument("--packs", default="L1,L2", help="L1, L2 or both")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch threads (default 1, as the reference; hamlet run uses all cores)",
    )  # fmt: skip
    parser.add_argument(
        "--learner", choices=("inline", "process"), default="inline",
        help="where gradient steps run: inline (default), or a second process beside the "
        "agents, one torch thread each (then 'learn' is the agents' wait for it)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="0.5 s per row (smoke test)")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else args.seconds
    counts = [int(a) for a in args.agents.split(",")]
    packs = [p for p in REFERENCE if SHORT[p] in args.packs.split(",")]
    torch.set_num_threads(args.threads)
    threads = "1 thread" if args.threads == 1 else f"{args.threads} threads"
    where = ", gradient steps in a second process" if args.learner == "process" else ""
    print(
        f"training throughput, torch {torch.__version__}, {threads}{where}, {args.device}, "
        f"{seconds:g} s per row"
    )
    print(
        "reference: the original's 1-agent rate on the first 2-core machine, an EPYC "
        "without AVX-512 (L1 121-145, L2 48-55)"
    )
    phases = "".join(f"{name:>9}" for name in PHASES)
    print(f"{'':4}{'agents':>7}{'agent-steps/s':>15}{'x reference':>14}{'goal':>6}"
          f"{'grad/s':>8}{'ceiling':>10}  |{phases}  (% of wall time)")  # fmt: skip
    for pack in packs:
        low, high = REFERENCE[pack]
        for agents in counts:
            trainer = ready_trainer(pack, agents, args.device, args.learner == "process")
            try:
                row = measure(trainer, seconds)
            finally:
                trainer.close()
            goal = GOALS[pack].get(agents)
            shares = "".join(f"{row[name]:>9.0%}" for name in PHASES)
            print(
                f"{SHORT[pack]:<4}{agents:>7}{row['rate']:>15,.0f}"
                f"{row['rate'] / high:>7.1f}-{row['rate'] / low:<6.1f}"
                f"{(f'{goal}x' if goal else ''):>6}{row['grads']:>8.1f}"
                f"{ceiling(row):>10,.0f}  |{shares}"
            )
    if not args.quick and args.device == "cpu":
        torch.set_num_threads(1)
        probe_cost(seconds)


if __name__ == "__main__":
    main()

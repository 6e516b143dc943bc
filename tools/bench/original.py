"""HAMLET beside the original system it replaces: training speed, side by side, in one run.

Run: ``python tools/bench/original.py ORIGINAL [--python PY] [--pack L1|L2] [--rounds 3]
[--seconds 60] [--warmup 10] [--threads 1] [--learner inline|process]``.

``ORIGINAL`` is a checkout of the original system (github.com/tachyon-beep/hamlet, the
``townlet`` package, commit 0a1b355: the one ``../shared/reference/townlet-facts.md``
describes), and ``--python`` an interpreter that can import it (default:
``ORIGINAL/.venv/bin/python``; it needs torch, pydantic, pyyaml, numpy and tensorboard).
To set one up::

    git clone https://github.com/tachyon-beep/hamlet original && git -C original checkout 0a1b355
    python3.11 -m venv original/.venv
    original/.venv/bin/pip install torch==2.13.0 pydantic pyyaml numpy tensorboard

Each system then trains the same pack in turns, one process per turn, ``--rounds`` times,
so that a slow spell of the machine hits both alike. Each process runs its system's own
training loop unchanged: the original's ``DemoRunner.run()`` on its config pack with 1
agent, ours ``run_training`` (``hamlet run``) on the shipped pack with each of
``--agents`` (1 by default), learning on, ``--threads`` torch threads, and its gradient
steps where ``--learner`` says: ``inline`` (the default, one process as the original),
or ``process``, a second process beside the agents with one torch thread each, both
cores at work (what ``hamlet run`` does on a CPU with 2 cores or more). A wrapper counts
the calls of each loop's one-step function (``VectorizedPopulation.step_population``,
``Trainer.step``) and of the start of its gradient steps (the original's replay
sampling, ``Trainer._learn``), with their times. The rate is agent-steps per second over
``--seconds``, from ``--warmup`` seconds after the first gradient step: start-up, and the
replay filling before learning starts, stay out of it (the original's recurrent replay
waits for 16 finished episodes). Ours trains for the pack's episodes times ``agents //
run.agents`` (its default count), so 64 agents do not end the run inside the window
and explore per agent as the pack's own run does. Gradient steps per second are printed
beside it: how much learning each system does in that time. The original's 1-agent rate
with 1 thread is the speed issue's reference; each ratio is ours over it, of the medians
and per round.

The original's L2 training.yaml cannot run as shipped: it lacks six required training keys
(townlet-facts §6.5). The child adds the values the facts give as intended (train every 4
steps, target update every 100, gradient norm 10, epsilon 1.0 / 0.999 / 0.01, batch 16,
sequences of 8) to a copy of the pack; nothing else of the original changes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKS = {"L1": "L1_full_observability", "L2": "L2_partial_observability"}

# Shared by both children: count the calls of the one-step and the learning functions,
# and say when the timed window (``warmup`` seconds after learning starts) is over.
COUNTER = """
import json, sys, threading, time, torch
warmup, seconds, threads = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
steps, learns = [], []
def counted(function, calls):
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        calls.append(time.perf_counter())
        return result
    return wrapper
def over():
    return bool(learns) and time.perf_counter() >= learns[0] + warmup + seconds
def rates(agents):
    inside = [t for t in steps if t >= learns[0] + warmup] if learns else []
    if len(inside) < 2:
        sys.exit("the run ended before its timed window: no rate to give")
    span = inside[-1] - inside[0]
    grads = sum(inside[0] <= t <= inside[-1] for t in learns)
    return json.dumps({"rate": (len(inside) - 1) * agents / span, "grads": grads / span})
"""

ORIGINAL_CHILD = (
    COUNTER
    + """
import logging, shutil, tempfile, yaml
from pathlib import Path
logging.disable(logging.WARNING)
original, pack = Path(sys.argv[1]), sys.argv[5]
sys.path.insert(0, str(original / "src"))
from townlet.demo.runner import DemoRunner
from townlet.population.vectorized import VectorizedPopulation
from townlet.training.replay_buffer import ReplayBuffer
from townlet.training.sequential_replay_buffer import SequentialReplayBuffer
VectorizedPopulation.step_population = counted(VectorizedPopulation.step_population, steps)
ReplayBuffer.sample = counted(ReplayBuffer.sample, learns)
SequentialReplayBuffer.sample_sequences = counted(SequentialReplayBuffer.sample_sequences, learns)
with tempfile.TemporaryDirectory() as folder:
    config = Path(folder) / pack
    shutil.copytree(original / "configs" / pack, config)
    training = yaml.safe_load((config / "training.yaml").read_text())
    intended = {"train_frequency": 4, "target_update_frequency": 100, "max_grad_norm": 10.0,
                "epsilon_start": 1.0, "epsilon_decay": 0.999, "epsilon_min": 0.01,
                "batch_size": 16, "sequence_length": 8}
    for key, value in intended.items():
        training["training"].setdefault(key, value)
    (config / "training.yaml").write_text(yaml.safe_dump(training))
    runner = DemoRunner(config, Path(folder) / "demo.db", Path(folder) / "checkpoints",
                        max_episodes=10**9)
    def stop():
        while not over():
            time.sleep(0.05)
        runner.should_shutdown = True
    threading.Thread(target=stop, daemon=True).start()
    runner.run()
    print(rates(training["population"]["num_agents"]))
"""
)

OURS_CHILD = (
    COUNTER
    + """
import tempfile
from hamlet.runtime.learning.trainer import Trainer
from hamlet.runtime.runs import RunOptions, run_training
Trainer.step = counted(Trainer.step, steps)
Trainer._learn = counted(Trainer._learn, learns)  # (begins a gradient step, wherever it runs)
def stop(trainer, episodes):
    if over():
        raise KeyboardInterrupt
from hamlet.configs import pack_dir
from hamlet.schemas import load_pack
# The pack's budget is for its own agent count: more agents use it up sooner (64 agents
# ended L1's 5000 episodes inside the timed window). Each agent gets its share of it, so
# that exploration decays per agent as in a run of the pack's own size.
agents, run = int(sys.argv[6]), load_pack(pack_dir(sys.argv[5])).training.run
episodes = run.max_episodes * max(1, agents // run.agents)
with tempfile.TemporaryDirectory() as folder:
    options = RunOptions(pack=sys.argv[5], agents=agents, out=folder, learner=sys.argv[7],
                         episodes=episodes)
    run_training(options, stop)
print(rates(int(sys.argv[6])))
"""
)


def _learners(text: str) -> list[str]:
    names = text.split(",")
    if not names or any(name not in ("inline", "process") for name in names):
        raise argparse.ArgumentTypeError("give inline, process or inline,process")
    return names


def measure(
    python: str,
    child: str,
    first: str,
    args: argparse.Namespace,
    agents: int = 1,
    learner: str = "inline",
) -> dict[str, float]:
    argv = [python, "-c", child, first, str(args.warmup), str(args.seconds), str(args.threads),
            PACKS[args.pack], str(agents), learner]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"{Path(python).name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )  # fmt: skip
    parser.add_argument("original", type=Path, help="a checkout of the original system")
    parser.add_argument("--python", help="its interpreter (default ORIGINAL/.venv/bin/python)")
    parser.add_argument("--pack", choices=sorted(PACKS), default="L2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0, help="timed seconds per turn")
    parser.add_argument("--warmup", type=float, default=10.0, help="untimed seconds per turn")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--learner", type=_learners, default=["inline"],
        help="where our gradient steps run (hamlet run --learner), comma-separated: inline "
        "(default), in the one process, as the original does; process, in a second process "
        "beside the agents, one torch thread each (as hamlet run does on a CPU with 2 cores "
        "or more); inline,process measures both",
    )  # fmt: skip
    parser.add_argument(
        "--agents", type=lambda text: [int(n) for n in text.split(",")], default=[1],
        help="our agent counts, e.g. 1,64 (default 1; the original always trains 1)",
    )  # fmt: skip
    args = parser.parse_args()
    original = args.original.resolve()
    if not (original / "src" / "townlet" / "demo" / "runner.py").is_file():
        parser.error(f"{original} is not a checkout of the original system (no src/townlet)")
    python = args.python or str(original / ".venv" / "bin" / "python")
    if not Path(python).is_file():
        parser.error(f"no interpreter at {python}: give --python (see --help to set one up)")
    print(f"{PACKS[args.pack]}, learning on, {args.threads} torch thread(s), {args.seconds:g} s "
          f"timed per turn from {args.warmup:g} s after the first gradient step")  # fmt: skip
    turns = [(n, learner) for learner in args.learner for n in args.agents]
    names = ["original", *(
        f"ours, {n} agent{'s' if n > 1 else ''}, {learner}" for n, learner in turns
    )]  # fmt: skip
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        runs["original"].append(measure(python, ORIGINAL_CHILD, str(original), args))
        for name, (agents, learner) in zip(names[1:], turns, strict=True):
            runs[name].append(measure(sys.executable, OURS_CHILD, "-", args, agents, learner))
        print(f"round {round_ + 1}: " + ", ".join(
            f"{name} {runs[name][-1]['rate']:,.1f} agent-steps/s "
            f"({runs[name][-1]['grads']:.1f} grad-steps/s)" for name in names
        ))  # fmt: skip
    theirs = statistics.median(r["rate"] for r in runs["original"])
    print(f"median of {args.rounds} rounds; the original (1 agent) is the reference:")
    print(f"  original: {theirs:,.1f} agent-steps/s")
    for name in names[1:]:
        ours = statistics.median(r["rate"] for r in runs[name])
        ratios = [a["rate"] / b["rate"] for a, b in zip(runs[name], runs["original"], strict=True)]
        print(
            f"  {name}: {ours:,.1f} agent-steps/s = {ours / theirs:,.2f}x the original "
            f"(rounds: {min(ratios):,.2f}-{max(ratios):,.2f}x)"
        )


if __name__ == "__main__":
    main()

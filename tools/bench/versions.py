"""Compare the training speed of two versions of HAMLET, side by side, in one run.

Run: ``python tools/bench/versions.py BEFORE [AFTER] [--pack L1] [--agents 64]
[--rounds 6] [--seconds 5] [--set KEY=VALUE ...]``. ``BEFORE`` and ``AFTER`` are git
revisions; ``AFTER`` defaults to the working tree. ``--set`` changes a setting for both,
as ``hamlet run --set`` does (both revisions must know it). Each revision is checked
out into a temporary git worktree. Both then train the same pack with the same seed, in
turns: one process per version, alternating ``--rounds`` times, each timing
``--seconds`` of training after warming up. A slow spell of the machine thus hits both
alike. The result is the ratio of the medians (AFTER / BEFORE agent-steps/s) with every
round's figures. A measured change is only as good as that spread: on a shared 2-core
machine rounds vary by 10-30%.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKS = {"L1": "L1_full_observability", "L2": "L2_partial_observability"}

# The child: imports the hamlet of its checkout (the parent folder of the `hamlet` link
# below is first on sys.path) and measures steps of the plain trainer.
CHILD = """
import json, sys, time, torch
torch.set_num_threads(1)
from hamlet.runtime import HamletModel
from hamlet.runtime.learning.trainer import Trainer
from hamlet.schemas import load_pack
sets = json.loads(sys.argv[4])
if sets:  # as `hamlet run --set` applies them
    from hamlet.compiler import compile_brain
    from hamlet.schemas import observation_layout
    from hamlet.schemas.override import parse_overrides
    from hamlet.schemas.errors import HamletError
    try:
        overrides = parse_overrides(sets)
        pack = load_pack(sys.argv[1], overrides=overrides)
        brain = compile_brain(pack.directory / "brain.yaml", layout=observation_layout(pack),
                              overrides=overrides)
    except HamletError as error:
        sys.exit(str(error))
    model = HamletModel.from_spec(brain, seed=0)
else:
    pack = load_pack(sys.argv[1])
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
trainer = Trainer(pack, model, num_agents=int(sys.argv[2]), seed=0)
while not trainer.learner.ready:
    trainer.step()
for _ in range(trainer.train_frequency * 3):
    trainer.step()
steps, start = 0, time.perf_counter()
while time.perf_counter() - start < float(sys.argv[3]):
    trainer.step()
    steps += 1
print(json.dumps(steps * trainer.num_agents / (time.perf_counter() - start)))
"""


def checkout(revision: str, into: Path) -> Path:
    """A folder whose ``hamlet`` is the given revision's sources (a git worktree)."""
    tree = into / revision.replace("/", "_")
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), revision],
                   cwd=ROOT, check=True)  # fmt: skip
    return _importable(tree, into / f"{tree.name}-path")


def _importable(tree: Path, folder: Path) -> Path:
    """A folder holding a ``hamlet`` link to ``tree``, the layout the package installs."""
    folder.mkdir()
    (folder / "hamlet").symlink_to(tree)
    return folder


def rate(path: Path, pack: str, agents: int, seconds: float, sets: list[str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, pack, str(agents), str(seconds), json.dumps(sets)],
        env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, cwd=path,
    )  # fmt: skip
    if result.returncode != 0:  # (a setting this revision refuses, or a broken revision)
        raise SystemExit(f"versions.py: {path.name} failed:\n{result.stderr.strip()[-2000:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="a git revision (e.g. HEAD~3)")
    parser.add_argument("after", nargs="?", help="a git revision (default: the working tree)")
    parser.add_argument("--pack", choices=sorted(PACKS), default="L1")
    parser.add_argument("--agents", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per turn")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for both versions, as hamlet run --set "
                        "(e.g. learning.n_step=3); repeat for more")  # fmt: skip
    args = parser.parse_args()
    pack = PACKS[args.pack]
    with tempfile.TemporaryDirectory() as folder:
        temp = Path(folder)
        trees = []
        try:
            versions = {"before": checkout(args.before, temp)}
            trees.append(temp / args.before.replace("/", "_"))
            if args.after:
                versions["after"] = checkout(args.after, temp)
                trees.append(temp / args.after.replace("/", "_"))
            else:
                versions["after"] = _importable(ROOT, temp / "working-tree")
            rates: dict[str, list[float]] = {name: [] for name in versions}
            settings = "".join(f", --set {text}" for text in args.sets)
            print(f"{pack}, {args.agents} agent(s), 1 thread, {args.seconds:g} s per turn"
                  f"{settings}")  # fmt: skip
            for round_ in range(args.rounds):
                for name, path in versions.items():
                    rates[name].append(rate(path, pack, args.agents, args.seconds, args.sets))
                print(f"round {round_ + 1}: before {rates['before'][-1]:,.0f}, "
                      f"after {rates['after'][-1]:,.0f} agent-steps/s")  # fmt: skip
        finally:
            for tree in trees:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
    before, after = statistics.median(rates["before"]), statistics.median(rates["after"])
    low = min(a / b for a, b in zip(rates["after"], rates["before"], strict=True))
    high = max(a / b for a, b in zip(rates["after"], rates["before"], strict=True))
    print(f"median: before {before:,.0f}, after {after:,.0f} agent-steps/s; "
          f"after / before = {after / before:.2f}x (rounds: {low:.2f}-{high:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()

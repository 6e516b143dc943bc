"""Fuzzing what users hand to HAMLET: config packs and brains, checkpoints, run databases
and command lines, mutated from real ones with a fixed seed.

Every mutated input goes through the calls a user would make (``load_pack`` and the
compiler, a short training run, ``hamlet inspect/eval/export/migrate/replay/run
--resume``, ``hamletc check``), in a worker process with a memory cap
(tests/fuzz_worker.py). Each must succeed or end in a ``HamletError`` (or an argparse
usage exit): never another exception, a traceback, or a blow-up past the cap.
``HAMLET_FUZZ_SEED`` picks other mutations, to explore beyond the fixed ones.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hamlet.runtime.runs import RunOptions, run_training

from .runtime.conftest import tiny_pack

SEED = int(os.environ.get("HAMLET_FUZZ_SEED", "20261202"))
WORKER = Path(__file__).with_name("fuzz_worker.py")
PACK_FILES = ("brain.yaml", "training.yaml", "bars.yaml", "affordances.yaml", "cascades.yaml")
EVIL = [
    ".nan", ".inf", "-.inf", "-1", "0", "-0.0", "1e12", "1e308", "99999999999999999999999",
    "2147483648", "true", "null", "''", "'text'", "[]", "{}", "[1, 2]", "0x10", "1_000",
    '"\\0"', '"\\ud800"', "!!binary aGk=", "&a x", "*nowhere", "~",
]  # fmt: skip
WATCH_REFUSALS = {
    "--stage": ["-1", "0", "99", "abc"],
    "--epsilon": ["-1", "nan", "2", "abc"],
    "--speed": ["0", "-1", "nan", "1e9"],
}
URL_REFUSALS = ["", "abc", "../..", "/dev/null", "http://127.0.0.1:8765", "ws://", "ws://h:99999",
                "ws://h:abc", "wss://:1", "ws://[::1", "\u00e9://x"]  # fmt: skip
"""hamlet watch URL: addresses no stream can have (a valid one would open the viewer)."""
SET_KEYS = [
    "learning.learning_rate", "learning.gamma", "learning.batch_size", "learning.replay.capacity",
    "exploration.epsilon.decay", "exploration.epsilon.fraction", "run.seed", "run.checkpoint_every", "run.agents",
    "bars.meters[0].initial",
    "curriculum.stages[9].depletion_multiplier", "network.net.hidden", "learning.learnin_rate",
    "training.version", "version", "brain.extends", "evaluation.every_episodes", "x[0", "=",
]  # fmt: skip
SWEEP_REFUSALS = ["0", "-1", "abc", "", "1,1", "nan", "gpu", "run.seed", "../x", "learning.gamma=2"]
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])")
SCALAR = re.compile(r"(?m)^(\s*[A-Za-z_]+:[ ]+)([^\s#{\[][^#\n]*)$")


def mutate_text(text: str, rng: random.Random) -> str:
    """One random mutation of a YAML file's text."""
    lines = text.splitlines(keepends=True)
    operator = rng.randrange(7)
    if operator == 0 and NUMBER.search(text):
        spans = [m.span() for m in NUMBER.finditer(text)]
        start, end = rng.choice(spans)
        return text[:start] + rng.choice(EVIL) + text[end:]
    if operator == 1 and SCALAR.search(text):
        m = rng.choice(list(SCALAR.finditer(text)))
        return text[: m.start(2)] + rng.choice(EVIL) + text[m.end(2) :]
    if operator == 2:
        content = [
            i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")
        ]
        del lines[rng.choice(content)]
        return "".join(lines)
    if operator == 3:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        return "".join(lines)
    if operator == 4:
        return text[: rng.randrange(len(text))]
    if operator == 5:
        at = rng.randrange(len(text))
        junk = rng.choice(["\x00", "\t", "\udcff", "\u202e", ": :", "- ", "{", "]", "\n  - x\n"])
        return text[:at] + junk + text[at:]
    # an absurd size where a size is expected
    key = rng.choice(["capacity", "batch_size", "hidden", "embed_dim", "grid_size", "atoms",
                      "hidden_size", "max_steps_per_episode", "window", "seed", "initial"])  # fmt: skip
    value = rng.choice(["1000000000000", "[1000000000]", "2e9", "[1099511627776]", "-5"])
    return re.sub(rf"(?m)^(\s*{key}:[ ]+)[^#\n]+", rf"\g<1>{value}", text, count=1)


def write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", "surrogatepass"))


def run_worker(cases: list[dict]) -> list[dict]:
    result = subprocess.run(
        [sys.executable, str(WORKER)], input=json.dumps(cases), capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, f"the worker died (memory cap?): {result.stderr[-3000:]}"
    return json.loads(result.stdout)


def assert_no_crash(outcomes: list[dict]) -> None:
    crashes = [o for o in outcomes if o["outcome"] == "crash"]
    assert not crashes, "\n\n".join(
        f"{json.dumps(o['case'])}\n{o['traceback'][-2500:]}" for o in crashes[:3]
    )
    exits = [o for o in outcomes if o["outcome"] == "exit" and o["code"] not in (0, 2)]
    assert not exits, exits


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, Path]:
    """A tiny pack, a finished run of it (with recordings), and its checkpoints."""
    folder = tmp_path_factory.mktemp("fuzz")
    pack = tiny_pack(folder, "L0_5_dual_resource")
    run = run_training(RunOptions(pack=pack, episodes=4, out=folder / "runs")).run_dir
    return {"folder": folder, "pack": pack, "run": run}


def test_mutated_config_packs_and_brains(base, tmp_path):
    rng = random.Random(SEED)
    cases = []
    for i in range(48):
        pack = tmp_path / f"pack{i:02d}"
        shutil.copytree(base["pack"], pack)
        name = rng.choice(PACK_FILES)
        for _ in range(rng.choice([1, 1, 2])):
            write(pack / name, mutate_text((pack / name).read_text("utf-8", "surrogatepass"), rng))
        cases.append({"kind": "pack", "path": str(pack)})
        cases.append({"kind": "hamletc", "argv": ["check", str(pack / "brain.yaml")]})
        if i % 6 == 0:  # a whole (short) run, where a bad number would surface in training
            cases.append({"kind": "run", "path": str(pack), "out": str(tmp_path / "runs")})
    outcomes = run_worker(cases)
    assert_no_crash(outcomes)
    refused = sum(o["outcome"] == "error" for o in outcomes if o["case"]["kind"] == "pack")
    assert refused >= 10  # the mutations do reach the checks


def _mutate_checkpoint(data: object, rng: random.Random) -> object:
    """A structural mutation of a checkpoint's dict: types, dtypes, shapes, entries."""
    data = dict(data)  # type: ignore[call-overload]
    key = rng.choice(sorted(data))
    operator = rng.randrange(6)
    if operator == 0:
        del data[key]
    elif operator == 1:
        data[key] = rng.choice(["text", 7, [1, 2], None, torch.zeros(3), {"a": {"b": []}}])
    elif operator == 2 and isinstance(data.get("state_dict"), dict):
        weights = dict(data["state_dict"])
        name = rng.choice(sorted(weights))
        weights[name] = rng.choice([
            weights[name].double(), weights[name].half(), weights[name].long(),
            weights[name] > 0, torch.full_like(weights[name], float("nan")),
            torch.zeros(0), weights[name].flatten(), torch.zeros(2, 2, 2, 2, 2),
        ])  # fmt: skip
        data["state_dict"] = weights
    elif operator == 3 and isinstance(data.get("metadata"), dict):
        metadata = dict(data["metadata"])
        metadata[rng.choice(["pack", "affordance_layout", "episode", "observation_layout"])] = (
            rng.choice([3, [], {"Bed": "x"}, {"Bed": [-1, 99]}, "L9", {"grid": 1}, -4])
        )
        data["metadata"] = metadata
    elif operator == 4:
        nested: object = 0
        for _ in range(rng.choice([50, 300])):
            nested = [nested]
        data["metadata"] = {"deep": nested}
    else:
        data["brain_spec_hash"] = "sha256:" + "0" * 64
    return data


def test_mutated_checkpoints_through_every_command(base, tmp_path):
    rng = random.Random(SEED + 1)
    source = base["run"] / "checkpoints"
    model = sorted(source.glob("model_ep*.pt"))[-1]
    training = sorted(source.glob("checkpoint_ep*.pt"))[-1]
    cases = []
    for i in range(24):
        folder = tmp_path / f"c{i:02d}"
        folder.mkdir()
        original = rng.choice([model, training])
        target = folder / original.name
        if rng.random() < 0.5:
            data = torch.load(original, weights_only=True)
            torch.save(_mutate_checkpoint(data, rng), target)
        else:
            raw = bytearray(original.read_bytes())
            for _ in range(rng.choice([1, 8, 64])):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            target.write_bytes(bytes(raw[: rng.choice([len(raw), len(raw) // 2])]))
        cases += [
            {"kind": "load", "path": str(target)},
            {"kind": "hamlet", "argv": ["inspect", str(target)]},
            {"kind": "hamlet", "argv": ["eval", str(target), "--episodes", "2", "--pack", str(base["pack"])]},
            {"kind": "hamlet", "argv": ["export", str(target), str(folder / "out"), "--format", "python"]},
            {"kind": "hamlet", "argv": ["migrate", str(folder)]},
        ]  # fmt: skip
    assert_no_crash(run_worker(cases))


def test_damaged_run_databases_and_recordings(base, tmp_path):
    rng = random.Random(SEED + 2)
    cases = []
    for i in range(12):
        run = tmp_path / "runs" / base["run"].parent.name / f"run{i:02d}"
        shutil.copytree(base["run"], run)
        db = run / "metrics.sqlite"
        operator = i % 6
        if operator == 0:
            raw = bytearray(db.read_bytes())
            for _ in range(rng.choice([4, 64, 512])):
                raw[rng.randrange(100, len(raw))] = rng.randrange(256)
            db.write_bytes(bytes(raw))
        elif operator == 1:
            db.write_bytes(db.read_bytes()[: rng.randrange(len(db.read_bytes()))])
        else:
            with sqlite3.connect(db) as connection:
                statement = [
                    "DROP TABLE run_state",
                    "UPDATE run_state SET value = 'not json' WHERE key = 'seed'",
                    "UPDATE run_state SET value = '\"seven\"' WHERE key = 'seed'",
                    "UPDATE recordings SET reasons = 'x', path = '/etc/passwd'",
                ][operator - 2]
                connection.execute(statement)
        cases += [
            {"kind": "hamlet", "argv": ["replay", str(run), "--list"]},
            {"kind": "hamlet", "argv": ["run", "--resume", str(run), "--episodes", "5", "--quiet"]},
        ]
    assert_no_crash(run_worker(cases))


def test_random_command_line_values(base, tmp_path):
    rng = random.Random(SEED + 3)
    # (no NUL: a shell cannot pass one in an argument)
    values = ["-1", "0", "nan", "inf", "1e400", "abc", "", "99999999999999999999", "cuda:7",
              "gpu", "../..", "L1_full_observabilty", "3.5", "-0", "/dev/null"]  # fmt: skip
    model = str(base["run"])
    commands = {
        # --episodes 1 and --minutes bound every run, whichever one of them is fuzzed
        "run": (["run", str(base["pack"]), "--episodes", "1", "--minutes", "0.05", "--quiet",
                 "--out", str(tmp_path)],
                ["--episodes", "--agents", "--seed", "--device", "--minutes", "--checkpoint-every",
                 "--learner"]),
        "eval": (["eval", model, "--episodes", "2"],
                 ["--episodes", "--stage", "--multiplier", "--seed", "--device", "--pack"]),
        "inspect": (["inspect"], [None]),
        "export": (["export", model, str(tmp_path / "x")], ["--format", None]),
        "replay": (["replay", model, "--list"], ["--episode", None]),
        "watch": (["watch", "--checkpoint", model, "--episodes", "1"], ["--stage", "--epsilon", "--speed"]),
        "watch-url": (["watch"], [None]),
        # pictures: files named by any value (a folder, /dev/null, '../..'), frame rates
        "gif": (["watch", "--checkpoint", model, "--stage", "1"], ["--gif", "--mp4", "--fps"]),
        "replay-gif": (["replay", model, "--episode", "0"], ["--gif", "--mp4", "--fps"]),
    }  # fmt: skip
    cases = []
    for _ in range(40):
        name = rng.choice(sorted(commands))
        argv, flags = commands[name]
        flag, value = rng.choice(flags), rng.choice(values)
        if name == "watch":  # only refusals: a valid watch would open the viewer
            value = rng.choice(WATCH_REFUSALS[flag])
        elif name == "watch-url":
            value = rng.choice([model, *URL_REFUSALS])
        extra = [value] if flag is None else [flag, value]
        cases.append({"kind": "hamlet", "argv": [*argv, *extra], "cwd": str(tmp_path)})
    for text in ["", "nan", "../../etc/passwd", "/dev/zero", "/proc/self/mem"]:
        cases.append({"kind": "hamletc", "argv": ["check", text]})
    for _ in range(16):  # --set: real keys and near misses, with values of every kind
        argv = ["run", str(base["pack"]), "--episodes", "1", "--quiet", "--out", str(tmp_path)]
        sets = [f"{rng.choice(SET_KEYS)}={rng.choice([*EVIL, *values])}" for _ in range(2)]
        cases.append({"kind": "hamlet", "argv": [*argv, *(a for s in sets for a in ("--set", s))]})
    sweep = ["sweep", str(base["pack"]), "--seeds", "1", "--agent-steps", "20", "--workers", "1",
             "--quiet", "--out", str(tmp_path / "sweeps")]  # fmt: skip
    for flag in ["--seeds", "--seed-list", "--set", "--agents", "--workers", "--backend", "--name"]:
        cases.append({"kind": "hamlet", "argv": [*sweep, flag, rng.choice(SWEEP_REFUSALS)]})
    outcomes = run_worker(cases)
    assert_no_crash(outcomes)

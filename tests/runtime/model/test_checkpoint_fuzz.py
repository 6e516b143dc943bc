"""Seeded fuzzing of checkpoint loading: damaged and crafted files load, or fail with a
HamletError; never another exception, a crash or a memory blow-up.

Real files of every format (an inference checkpoint, a training checkpoint written by
``save_checkpoint``, an original-system checkpoint, a bare state_dict and a safetensors
export) are mutated, each by every mutation that applies to it with seeded positions
and values: byte flips (anywhere, and inside the stored weights), truncations, zeroed
and inserted bytes, deleted entries, entries of another type, other dtypes, NaNs,
impossible and overlapping shapes, 200,000-deep nesting and a self-containing entry.
A separate Python loads them all under a cap on its address space (``RLIMIT_AS``), so
an allocation the file should not have caused fails there instead of succeeding, and
a crash (a segfault in a C recursion) shows as the case it happened in.

``HAMLET_FUZZ_SEED=n`` runs another seed; the failure message names the seed and case.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from hamlet.runtime.model.checkpoint import TrainingCheckpoint, save_checkpoint

from ...compiler.test_legacy_networks import SimpleQNetwork
from .crafted import (
    PLACEHOLDER,
    SHAPE_MARK,
    cyclic_list,
    deep_dict,
    deep_list,
    deep_tuple_key,
    save_patched,
    stored_record,
    with_shape,
)
from .test_legacy_checkpoints import original_checkpoint

resource = pytest.importorskip("resource")

SEED = int(os.environ.get("HAMLET_FUZZ_SEED", "0"))
MEMORY_CAP = 1536 << 20
"""Address space the loading process may take beyond what its imports took."""
MEMORY_USED = 512 << 20
"""Memory it may really use beyond that (the files are a few MB; a load that
materialises what a crafted shape or archive claims would need far more)."""
ROOT = Path(__file__).resolve().parents[3]

CHILD = r"""
import json, resource, sys, warnings

import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.model.checkpoint import load_training_checkpoint
from hamlet.schemas import HamletError

cases = json.loads(sys.stdin.read())
status = {l.split(":")[0]: int(l.split()[1]) * 1024 for l in open("/proc/self/status") if "kB" in l}
cap = status["VmSize"] + int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
warnings.simplefilter("ignore")  # converted dtypes, allowed mismatches
for case in cases:
    loaders = [HamletModel.load] + ([load_training_checkpoint] if case["training"] else [])
    for load in loaders:
        name = f"{case['id']} via {load.__name__}"
        print(json.dumps({"start": name}), flush=True)
        try:
            load(case["path"])
            outcome = "loaded"
        except HamletError as error:
            outcome = error.code
        except BaseException as error:  # what the test is looking for
            outcome = f"{type(error).__name__}: {str(error)[:300]}"
        print(json.dumps({"case": name, "outcome": outcome}), flush=True)
# (VmHWM, not ru_maxrss: that keeps the peak of the pytest process this one was forked
# from, before its exec)
peak = {l.split(":")[0]: int(l.split()[1]) * 1024 for l in open("/proc/self/status") if "kB" in l}
print(json.dumps({"peak": peak["VmHWM"], "baseline": status["VmRSS"]}), flush=True)
"""


# --- the real files ----------------------------------------------------------------------


def _bases(folder: Path, simple_model, recurrent_model) -> dict[str, Path]:
    weights = simple_model.module.state_dict()
    optimizer = torch.optim.Adam(simple_model.module.parameters())
    for parameter in simple_model.module.parameters():
        parameter.grad = torch.ones_like(parameter)
    optimizer.step()  # state to save; the model's weights change, on a copy below
    optimizer.zero_grad(set_to_none=True)
    training = TrainingCheckpoint(
        brain_spec=simple_model.spec,
        brain_spec_hash=simple_model.spec_hash,
        online={k: v.clone() for k, v in weights.items()},
        target={k: v.clone() for k, v in weights.items()},
        optimizer=optimizer.state_dict(),
        counters={"episode": 12, "env_steps": 480, "gradient_steps": 100},
        config={"training.yaml": "version: 1\n"},
        metadata={"pack": "L1_full_observability", "affordance_layout": {"Bed": [1, 2]}},
        replay={"obs": torch.zeros(4, simple_model.obs_dim), "written": 4},
        rng={"torch": torch.get_rng_state()},
        world={"obs": torch.zeros(1, simple_model.obs_dim), "hidden": None, "stage": 1},
    )
    return {
        "inference": simple_model.save(folder / "inference.pt", episode=12, epsilon=0.1),
        "training": save_checkpoint(training, folder / "training.pt"),
        "original": _torch_save(
            original_checkpoint(SimpleQNetwork(91, 6), "simple"), folder / "original.pt"
        ),
        "state_dict": _torch_save(recurrent_model.module.state_dict(), folder / "bare.pt"),
        "safetensors": simple_model.export(folder / "export.safetensors", "safetensors").path,
    }


def _torch_save(data: Any, path: Path) -> Path:
    torch.save(data, path)
    return path


# --- mutations: each writes ``out`` from ``source`` with ``rng``'s choices ----------------

Mutation = Callable[[random.Random, Path, Path], Path]


def flip_bytes(rng: random.Random, source: Path, out: Path) -> Path:
    raw = bytearray(source.read_bytes())
    for _ in range(rng.randint(1, 16)):
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    return _write(out, raw)


def flip_weight_byte(rng: random.Random, source: Path, out: Path) -> Path:
    raw = bytearray(source.read_bytes())
    if source.suffix == ".safetensors":  # the tensors follow the JSON header
        offset = 8 + int.from_bytes(raw[:8], "little")
        size = len(raw) - offset
    else:
        offset, size = stored_record(source)
    raw[offset + rng.randrange(size)] ^= 1 << rng.randrange(8)
    return _write(out, raw)


def truncate(rng: random.Random, source: Path, out: Path) -> Path:
    raw = source.read_bytes()
    return _write(out, raw[: rng.randrange(len(raw))])


def zero_range(rng: random.Random, source: Path, out: Path) -> Path:
    raw = bytearray(source.read_bytes())
    start = rng.randrange(len(raw))
    end = min(len(raw), start + rng.randint(1, 4096))
    raw[start:end] = bytes(end - start)
    return _write(out, raw)


def insert_bytes(rng: random.Random, source: Path, out: Path) -> Path:
    raw = source.read_bytes()
    at = rng.randrange(len(raw))
    return _write(out, raw[:at] + rng.randbytes(rng.randint(1, 64)) + raw[at:])


def delete_entry(rng: random.Random, source: Path, out: Path) -> Path:
    data = _load(source)
    parent, key = rng.choice(_places(data, containers_only=True))
    del parent[key]
    return _torch_save(data, out)


def swap_type(rng: random.Random, source: Path, out: Path) -> Path:
    data = _load(source)
    parent, key = rng.choice(_places(data))
    parent[key] = rng.choice(
        ["text", 12345, -1, 2**70, 1.5, math.nan, None, True, [1, "a"], {"a": 1}, torch.zeros(3)]
    )
    return _torch_save(data, out)


def change_dtype(rng: random.Random, source: Path, out: Path) -> Path:
    data = _load(source)
    parent, key = rng.choice(_tensors(data))
    dtype = rng.choice([torch.float64, torch.float16, torch.int64, torch.bool, torch.complex64])
    parent[key] = parent[key].to(dtype)
    return _torch_save(data, out)


def poison_values(rng: random.Random, source: Path, out: Path) -> Path:
    data = _load(source)
    floats = [(p, k) for p, k in _tensors(data) if p[k].is_floating_point() and p[k].numel()]
    parent, key = rng.choice(floats)
    tensor = parent[key].clone()
    flat = tensor.view(-1)
    value = rng.choice([math.nan, math.inf, -math.inf])
    if rng.random() < 0.5:
        flat.fill_(value)
    else:
        flat[rng.randrange(flat.numel())] = value
    parent[key] = tensor
    return _torch_save(data, out)


def impossible_shape(rng: random.Random, source: Path, out: Path) -> Path:
    data = _load(source)
    parent, key = rng.choice(_tensors(data))
    parent[key] = torch.zeros(SHAPE_MARK)
    shape = rng.choice(
        [
            b"J\xff\xff\xff\xff\x85",  # (-1,)
            b"\x8a\x08" + (2**62).to_bytes(8, "little") + b"\x85",  # (2**62,)
            b"J\x00\x00\x00\x40\x85",  # (2**30,)
            b"J\x00\x00\x01\x00J\x00\x00\x01\x00\x86",  # (65536, 65536) with one stride
        ]
    )
    return with_shape(data, out, shape)


def overlapping_shape(rng: random.Random, source: Path, out: Path) -> Path:
    data = _load(source)
    parent, key = rng.choice(_tensors(data))
    side = rng.choice([10**5, 10**6])
    parent[key] = torch.zeros(1, 1).expand(side, side)  # one value, 10**12 places
    return _torch_save(data, out)


def _nested(nesting: Callable[[int], bytes], depth: Callable[[random.Random], int]) -> Mutation:
    def mutation(rng: random.Random, source: Path, out: Path) -> Path:
        data = _load(source)
        parent, key = rng.choice(_places(data))
        parent[key] = PLACEHOLDER
        return save_patched(data, out, nesting(depth(rng)))

    mutation.__name__ = nesting.__name__
    return mutation


# Lists and dicts are walked to their end (test_untrusted_checkpoints goes 200,000 deep);
# tuples are refused at depth 65, so they can be as deep as a crash needs.
deep_lists = _nested(deep_list, lambda rng: rng.choice([5_000, 30_000]))
deep_dicts = _nested(deep_dict, lambda rng: rng.choice([5_000, 30_000]))
deep_tuple_keys = _nested(deep_tuple_key, lambda rng: 200_000)


def self_containing(rng: random.Random, source: Path, out: Path) -> Path:
    data = _load(source)
    parent, key = rng.choice(_places(data))
    parent[key] = PLACEHOLDER
    return save_patched(data, out, cyclic_list())


def edit_safetensors_header(rng: random.Random, source: Path, out: Path) -> Path:
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(source), "pt") as handle:
        header = handle.metadata()
        weights = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    key = rng.choice(sorted(header))
    header[key] = rng.choice(
        ["", "[1, 2]", '"text"', "{", "[" * 100_000 + "]" * 100_000, '{"pack": 3}', "null"]
    )
    if rng.random() < 0.5:
        name = rng.choice(sorted(weights))
        weights[name] = weights[name].to(rng.choice([torch.float64, torch.int64, torch.bool]))
    save_file(weights, out, metadata=header)
    return out


BYTES: list[Mutation] = [flip_bytes, flip_weight_byte, truncate, zero_range, insert_bytes]
STRUCTURE: list[Mutation] = [
    delete_entry,
    swap_type,
    change_dtype,
    poison_values,
    impossible_shape,
    overlapping_shape,
    deep_lists,
    deep_dicts,
    deep_tuple_keys,
    self_containing,
]


def _load(path: Path) -> Any:
    return torch.load(path, weights_only=True)


def _write(path: Path, raw: bytes | bytearray) -> Path:
    path.write_bytes(bytes(raw))
    return path


def _places(data: Any, *, containers_only: bool = False) -> list[tuple[Any, Any]]:
    """Every (container, key) of the dicts and lists in ``data`` (tensors' parents too)."""
    places, stack = [], [data]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            if isinstance(node, dict) or not containers_only:
                places.append((node, key))
            if isinstance(value, dict | list):
                stack.append(value)
    return places


def _tensors(data: Any) -> list[tuple[Any, Any]]:
    return [(p, k) for p, k in _places(data) if isinstance(p[k], torch.Tensor)]


def _cases(bases: dict[str, Path], folder: Path, rng: random.Random) -> list[dict[str, Any]]:
    cases = []
    for base, source in bases.items():
        mutations = [*BYTES, *(STRUCTURE if base != "safetensors" else [edit_safetensors_header])]
        mutations += rng.choices(mutations, k=3)  # and a few again, with other choices
        for number, mutation in enumerate(mutations):
            out = folder / f"{base}-{number}-{mutation.__name__}{source.suffix}"
            cases.append(
                {
                    "id": out.name,
                    "path": str(mutation(rng, source, out)),
                    "training": base == "training",
                }
            )
    return cases


# --- the test ----------------------------------------------------------------------------


def test_mutated_checkpoints_load_or_fail_with_a_coded_error(
    tmp_path, simple_model, recurrent_model
):
    rng = random.Random(SEED)
    cases = _cases(_bases(tmp_path, simple_model, recurrent_model), tmp_path, rng)
    assert len(cases) >= 60
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(MEMORY_CAP)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    lines = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    started = [line["start"] for line in lines if "start" in line]
    assert child.returncode == 0, (
        f"seed {SEED}: the loading process died ({child.returncode}) during "
        f"{started[-1] if started else 'its start'}: {child.stderr[-2000:]}"
    )
    outcomes = {line["case"]: line["outcome"] for line in lines if "case" in line}
    assert len(outcomes) == len(started) >= len(cases)
    bad = {name: outcome for name, outcome in outcomes.items() if not _expected(outcome)}
    assert not bad, f"seed {SEED}: neither loaded nor a HamletError: {bad}"
    codes = {outcome for outcome in outcomes.values() if outcome != "loaded"}
    assert {"E201", "E204", "E208"} <= codes, codes  # the mutations reach the checks
    memory = lines[-1]
    assert memory["peak"] < memory["baseline"] + MEMORY_USED, memory


def _expected(outcome: str) -> bool:
    return outcome == "loaded" or (
        len(outcome) == 4 and outcome[0] == "E" and outcome[1:].isdigit()
    )

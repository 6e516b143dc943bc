"""Benchmark the compiler: time to load + validate + resolve + emit + instantiate a brain.

Run: ``python tools/bench/compile.py [--repeats N]``. Import time is excluded: each
brain is compiled once to warm up (caches such as the compiled JSON Schema
validators fill then, as in any long-lived process), then timed ``N`` times; the
table shows medians. Target: under 20 ms per brain in total.

Columns: ``load`` reads the YAML (and every brain it ``extends``), validates it
against the JSON Schema and builds the typed spec; ``resolve`` checks the graph and
infers every size; ``emit`` writes the source and executes it into a class;
``init`` instantiates the module, which is PyTorch creating and randomly
initialising the parameters; ``world`` is loading the config pack that sizes the
brain (``hamletc compile`` does it once per pack).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from hamlet.compiler.emit import class_name, generate_source, load_class
from hamlet.compiler.load import load_brain
from hamlet.compiler.resolve import resolve_brain
from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import load_pack, observation_layout

BUILTIN_WORLDS = {
    "simple_q": "L1_full_observability",
    "recurrent_spatial_q": "L2_partial_observability",
}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - start) * 1e3


def _stages(brain: Any, layout: Any) -> tuple[dict[str, float], int]:
    source, load = _timed(lambda: load_brain(brain))
    resolved, resolve = _timed(lambda: resolve_brain(source, layout))

    def emit() -> type[torch.nn.Module]:
        code = generate_source(resolved)
        return load_class(code, class_name(resolved.spec.name), resolved.spec_hash)

    cls, emit_ms = _timed(emit)
    module, init = _timed(cls)
    params = sum(p.numel() for p in module.parameters())
    return {"load": load, "resolve": resolve, "emit": emit_ms, "init": init}, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed compiles per brain")
    args = parser.parse_args()
    torch.set_num_threads(1)

    cases = [(name, name, world) for name, world in BUILTIN_WORLDS.items()]
    cases += [(pack, pack_dir(pack) / "brain.yaml", pack) for pack in PACK_NAMES]
    columns = ["load", "resolve", "emit", "init"]
    print(f"median ms over {args.repeats} compiles (1 thread)")
    print(f"{'brain':<26}" + "".join(f"{c:>9}" for c in columns) + f"{'total':>9}"
          f"{'world':>9}  params")  # fmt: skip
    for label, brain, world in cases:
        layout = observation_layout(load_pack(pack_dir(world)))
        _stages(brain, layout)  # warm-up
        runs = [_stages(brain, layout) for _ in range(args.repeats)]
        params = runs[0][1]
        medians = {c: statistics.median(r[0][c] for r in runs) for c in columns}
        total = statistics.median(sum(r[0].values()) for r in runs)
        world_ms = statistics.median(
            _timed(lambda w=world: load_pack(pack_dir(w)))[1] for _ in range(10)
        )
        print(
            f"{label:<26}"
            + "".join(f"{medians[c]:>9.2f}" for c in columns)
            + f"{total:>9.2f}{world_ms:>9.2f}  {params:,}"
        )


if __name__ == "__main__":
    main()

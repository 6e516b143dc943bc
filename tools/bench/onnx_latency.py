"""Benchmark an ONNX export run by onnxruntime against the PyTorch network it came from.

Run: ``python tools/bench/onnx_latency.py [--repeats N] [--warmup N]``. Each built-in
trunk (``simple_q`` in L1_full_observability, ``recurrent_spatial_q`` in
L2_partial_observability, seed 0) is exported with ``model.export(path, "onnx")`` to a
temporary folder and timed at batch 1 (``N`` calls, default 500) and batch 256
(``N // 5`` calls), after ``--warmup`` untimed calls. Both runtimes use one thread
(``torch.set_num_threads(1)``; onnxruntime intra- and inter-op threads 1, the CPU
execution provider, default graph optimisations) so that the figures are stable and
comparable.

Rows: ``torch`` is ``model.module(obs)`` (recurrent: ``model.module(obs, h, c)``)
under ``torch.no_grad()`` on tensors; ``onnxruntime`` is ``session.run(None, feeds)``
on float32 numpy arrays (``obs``, and zero ``hidden_h``/``hidden_c`` for the recurrent
brain). The two are interleaved call by call, so that a change in machine load hits
them alike. Columns: ``median`` and ``p90`` of single-call wall times in
microseconds; ``x torch`` is a row's median over the torch median.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import torch
from timing import interleaved_times

from hamlet.runtime import HamletModel

BUILTIN_WORLDS = {
    "simple_q": "L1_full_observability",
    "recurrent_spatial_q": "L2_partial_observability",
}
BATCHES = (1, 256)


def single_thread_session(path: Path) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


def _calls(
    model: HamletModel, session: onnxruntime.InferenceSession, batch: int
) -> dict[str, Callable[[], Any]]:
    generator = torch.Generator().manual_seed(0)
    inputs = (torch.randn(batch, model.obs_dim, generator=generator),)
    if model.is_recurrent:
        inputs += model.initial_state(batch)
    names = [i.name for i in session.get_inputs()]
    feeds = {name: t.numpy() for name, t in zip(names, inputs, strict=True)}
    module = model.module

    def forward() -> Any:
        with torch.no_grad():
            return module(*inputs)

    return {"torch": forward, "onnxruntime": lambda: session.run(None, feeds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=500, help="timed calls at batch 1 (batch 256: a fifth)"
    )
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls before timing")
    args = parser.parse_args()
    torch.set_num_threads(1)

    print(
        f"onnxruntime vs torch forward: microseconds per call, torch {torch.__version__}, "
        f"onnxruntime {onnxruntime.__version__}, 1 thread each; {args.warmup} warm-up calls, "
        f"then {args.repeats} timed at batch 1 and {max(1, args.repeats // 5)} at batch 256"
    )
    print(f"{'brain':<21}{'batch':>6}  {'runtime':<13}{'median':>9}{'p90':>9}{'x torch':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for brain, world in BUILTIN_WORLDS.items():
            model = HamletModel.from_spec(brain, world=world, seed=0)
            session = single_thread_session(model.export(Path(folder) / brain, "onnx").path)
            for batch in BATCHES:
                repeats = args.repeats if batch == 1 else max(1, args.repeats // 5)
                times = interleaved_times(_calls(model, session, batch), args.warmup, repeats)
                floor = float(np.median(times["torch"]))
                for name, values in times.items():
                    median = float(np.median(values))
                    print(
                        f"{brain:<21}{batch:>6}  {name:<13}{median:>9.1f}"
                        f"{float(np.percentile(values, 90)):>9.1f}{median / floor:>8.2f}x"
                    )


if __name__ == "__main__":
    main()

"""Check that an exported model computes what the original computes.

The same plan runs on both: random observations at batch 1 and batch 7, and for
recurrent brains a 64-step rollout (batch 3) with the hidden state reset half-way,
each side carrying its own state. Each Q-value and hidden-state value must agree
within ``ATOL + RTOL * |value|`` (1e-5 + 1e-5 |x|: float32 carries ~7 digits, so a
Q-value of 100 computed in another order may differ by several 1e-5); greedy actions
must be equal except where the two best Q-values are that close (a tie either side may
break its own way). An export that fails is removed.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from hamlet.compiler import brain_from_data, compile_brain
from hamlet.schemas.errors import Diagnostic, ExportError

from .digest import weights_digest
from .exportable import Exportable, is_recurrent
from .weights import read_safetensors

ATOL = 1e-5
RTOL = 1e-5
TOLERANCE = f"{ATOL:.0e} + {RTOL:.0e} |x|"
ROLLOUT_STEPS = 64


@dataclass(frozen=True)
class Verification:
    """How closely an export matched its original."""

    format: str
    cases: int
    steps: int
    max_q_error: float
    max_hidden_error: float | None
    """None for feed-forward brains, which have no hidden state."""
    near_ties: int
    """Greedy actions that differ only because the two best Q-values were within the
    tolerance."""

    def __str__(self) -> str:
        hidden = (
            f", max |dh| {self.max_hidden_error:.1e}" if self.max_hidden_error is not None else ""
        )
        return (
            f"verified {self.format}: {self.cases} cases, {self.steps} steps, "
            f"max |dQ| {self.max_q_error:.1e}{hidden} (tolerance {TOLERANCE})"
        )


def make_plan(model: Exportable, seed: int = 0) -> list[dict[str, Any]]:
    """Observation sequences ``[time, batch, obs]`` and the steps before which to reset."""
    generator = torch.Generator().manual_seed(seed)

    def obs(time: int, batch: int) -> Tensor:
        return torch.randn(time, batch, model.brain.layout.obs_dim, generator=generator)

    plan = [{"obs": obs(1, 1), "reset": []}, {"obs": obs(1, 7), "reset": []}]
    if is_recurrent(model.module):
        plan.append({"obs": obs(ROLLOUT_STEPS, 3), "reset": [ROLLOUT_STEPS // 2]})
    return plan


def run_plan(
    step: Callable[..., Any],
    plan: list[dict[str, Any]],
    zeros: Callable[[int], tuple[Tensor, Tensor]] | None,
) -> list[dict[str, Any]]:
    """Run ``step(obs[, h, c])`` over every case; returns stacked q (and h, c) per case.

    Uses nothing but torch: its source also runs in the process that checks the
    standalone Python export, where HAMLET is not importable.
    """
    results = []
    for case in plan:
        sequence, resets = case["obs"], case["reset"]
        state = zeros(sequence.shape[1]) if zeros is not None else None
        qs, hs, cs = [], [], []
        for t in range(sequence.shape[0]):
            if state is not None and t in resets:
                state = zeros(sequence.shape[1])
            if state is None:
                qs.append(step(sequence[t]))
                continue
            q, h, c = step(sequence[t], *state)
            state = (h, c)
            qs.append(q)
            hs.append(h)
            cs.append(c)
        results.append(
            {
                "q": torch.stack(qs),
                "h": torch.stack(hs) if hs else None,
                "c": torch.stack(cs) if cs else None,
            }
        )
    return results


def verify_export(model: Exportable, path: Path, format: str) -> Verification:
    """Run the plan on ``model`` and on its export at ``path``; raise E211 if they differ."""
    plan = make_plan(model)
    zeros = _zeros(model) if is_recurrent(model.module) else None
    module = model.module
    with torch.no_grad():
        expected = run_plan(lambda *args: module(*args), plan, zeros)
        if format == "python":
            actual = _run_python_export(path, model, plan)
        else:
            actual = run_plan(_stepper(format, path, model), plan, zeros)
    return _compare(format, plan, expected, actual, path)


def _zeros(model: Exportable) -> Callable[[int], tuple[Tensor, Tensor]]:
    return lambda batch: model.module.initial_state(batch)


def _stepper(format: str, path: Path, model: Exportable) -> Callable[..., Any]:
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]

        def onnx_step(*inputs: Tensor) -> Any:
            feeds = {n: t.numpy() for n, t in zip(names, inputs, strict=True)}
            out = [torch.from_numpy(o) for o in session.run(None, feeds)]
            return out[0] if len(out) == 1 else tuple(out)

        return onnx_step
    if format == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated
            scripted = torch.jit.load(str(path))
        return lambda *inputs: scripted(*inputs)
    if format == "safetensors":
        # read back as HamletModel.load reads it: the stored spec, compiled, holding the
        # stored weights (strictly: a missing or extra tensor fails here)
        stored = read_safetensors(path, "cpu", str(path))
        brain = compile_brain(brain_from_data(stored.brain_spec))
        if stored.spec_hash != brain.spec_hash:
            raise _mismatch(format, "its spec hash does not match its spec", path)
        if stored.weights_digest != weights_digest(stored.weights):
            raise _mismatch(format, "its weights do not match their digest", path)
        loaded = brain.instantiate().eval()
        loaded.load_state_dict(stored.weights, strict=True)
        return lambda *inputs: loaded(*inputs)
    raise ValueError(f"cannot verify format {format!r}")


def _run_python_export(path: Path, model: Exportable, plan: list[dict[str, Any]]) -> Any:
    """Run the plan in a fresh Python in which importing ``hamlet`` is forbidden."""
    with tempfile.TemporaryDirectory() as folder:
        plan_file, out_file = Path(folder) / "plan.pt", Path(folder) / "out.pt"
        torch.save(plan, plan_file)
        script = _STANDALONE.format(
            run_plan=textwrap.dedent(inspect.getsource(run_plan)),
            folder=str(path.resolve()),
            cls=model.brain.class_name,
            plan=str(plan_file),
            out=str(out_file),
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, cwd=folder
        )
        if result.returncode != 0:
            raise ExportError(
                Diagnostic(
                    "E211",
                    "the standalone export does not run without HAMLET: "
                    + (result.stderr.strip().splitlines() or ["(no output)"])[-1],
                    file=str(path),
                )
            )
        return torch.load(out_file, weights_only=True)


_STANDALONE = """\
from __future__ import annotations
import importlib.abc, sys
class _NoHamlet(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "hamlet" or name.startswith("hamlet."):
            raise ImportError("the standalone export must not need hamlet")
sys.meta_path.insert(0, _NoHamlet())
sys.path.insert(0, {folder!r})
import torch
from model import {cls}
{run_plan}
model = {cls}()
model.load_state_dict(torch.load({folder!r} + "/weights.pt", weights_only=True))
model.eval()
zeros = (lambda batch: model.initial_state(batch)) if model.recurrent else None
with torch.no_grad():
    out = run_plan(lambda *a: model(*a), torch.load({plan!r}, weights_only=True), zeros)
torch.save(out, {out!r})
"""


def _compare(
    format: str, plan: list[dict[str, Any]], expected: list[Any], actual: list[Any], path: Path
) -> Verification:
    max_q = max_h = 0.0
    ties = 0
    outside = False  # a value past its tolerance
    for want, got in zip(expected, actual, strict=True):
        max_q = max(max_q, float((want["q"] - got["q"]).abs().max()))
        outside |= _outside(want["q"], got["q"])
        if want["h"] is not None:
            for key in ("h", "c"):
                max_h = max(max_h, float((want[key] - got[key]).abs().max()))
                outside |= _outside(want[key], got[key])
        greedy_want, greedy_got = want["q"].argmax(-1), got["q"].argmax(-1)
        top2 = want["q"].topk(2, dim=-1).values
        close = (top2[..., 0] - top2[..., 1]) < ATOL + RTOL * top2[..., 0].abs()
        if bool(((greedy_want != greedy_got) & ~close).any()):
            raise _mismatch(format, "greedy actions differ where the best Q-value is clear", path)
        ties += int(((greedy_want != greedy_got) & close).sum())
    recurrent = expected[0]["h"] is not None
    if outside:
        hidden = f", max |dh| {max_h:.2e}" if recurrent else ""
        detail = f"max |dQ| {max_q:.2e}{hidden}, past the tolerance {TOLERANCE}"
        raise _mismatch(format, detail, path)
    steps = sum(case["obs"].shape[0] for case in plan)
    return Verification(format, len(plan), steps, max_q, max_h if recurrent else None, ties)


def _outside(want: Tensor, got: Tensor) -> bool:
    return bool(((want - got).abs() > ATOL + RTOL * want.abs()).any())


def _mismatch(format: str, detail: str, path: Path) -> ExportError:
    return ExportError(
        Diagnostic(
            "E211",
            f"the {format} export computes different values than the model: {detail}",
            hint="please report this with the brain spec; the export was removed",
            file=str(path),
        )
    )

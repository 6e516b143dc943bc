"""Runs fuzz cases in a process with a memory cap, for tests/test_fuzz.py.

Reads a JSON list of cases on stdin and prints one JSON outcome per case: ``ok``, a
HamletError's code, a usage exit of argparse, or ``crash`` with the traceback. Each case
is one call a user can make: a command line (``hamlet`` or ``hamletc``), loading a pack,
compiling a brain, loading a model, or a short training run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import traceback
import warnings

MEMORY_CAP = 3 * 1024**3
"""Address space the worker may use past what its imports took: a run of the tiny packs
peaks under 1 GiB. (A CUDA build of PyTorch maps gigabytes just to be imported.)"""


def run_case(case: dict) -> object:
    from hamlet.compiler import compile_brain
    from hamlet.compiler.cli import main as hamletc
    from hamlet.runtime import HamletModel
    from hamlet.runtime.cli import main as hamlet
    from hamlet.runtime.runs import RunOptions, run_training
    from hamlet.schemas import load_pack, observation_layout

    kind = case["kind"]
    if kind == "hamlet":
        return hamlet(case["argv"])
    if kind == "hamletc":
        return hamletc(case["argv"])
    if kind == "pack":
        pack = load_pack(case["path"])
        return compile_brain(f"{case['path']}/brain.yaml", layout=observation_layout(pack)).source
    if kind == "load":
        import torch

        model = HamletModel.load(case["path"])
        return model.predict(torch.zeros(2, model.obs_dim))["actions"]
    if kind == "run":
        options = RunOptions(pack=case["path"], episodes=1, out=case["out"], minutes=0.2)
        return run_training(options).episodes
    raise ValueError(f"unknown case kind {kind}")


def main() -> None:
    os.environ.setdefault("NO_COLOR", "1")
    import hamlet.compiler.cli
    import hamlet.runtime.cli  # noqa: F401  (imported before the cap, as explained there)
    from hamlet.schemas.errors import HamletError

    cap = _address_space() + MEMORY_CAP
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    cases = json.load(sys.stdin)
    outcomes = []
    for case in cases:
        os.chdir(case.get("cwd", os.getcwd()))
        sink = io.StringIO()
        try:
            with (
                contextlib.redirect_stdout(sink),
                contextlib.redirect_stderr(sink),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")
                run_case(case)
            outcome: dict = {"outcome": "ok"}
        except HamletError as error:
            outcome = {"outcome": "error", "code": error.code}
        except SystemExit as exit:
            outcome = {"outcome": "exit", "code": exit.code}
        except BaseException:
            outcome = {"outcome": "crash", "traceback": traceback.format_exc()}
        printed = sink.getvalue()
        if "Traceback (most recent call last)" in printed:
            outcome = {"outcome": "crash", "traceback": printed}
        outcomes.append({**outcome, "case": case})
    print(json.dumps(outcomes))


def _address_space() -> int:
    """Bytes of address space this process holds now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


if __name__ == "__main__":
    main()

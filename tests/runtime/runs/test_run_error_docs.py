"""docs/errors.md shows, for E135 and E300-E316, exactly what ``hamlet`` prints: each case is built
here in a fresh folder holding ``my_pack`` (a quick copy of L0_5_dual_resource) and, where the
example needs one, its finished 2-episode run ``runs/my_pack/2026-12-01_120000``."""

from __future__ import annotations

import errno
import shutil
import socket
import sqlite3
import sys
from pathlib import Path

import pytest
import torch

from hamlet.runtime.runs import RunOptions, run_training

from ..conftest import tiny_pack
from ..test_error_docs import run_documented_example

RUN = Path("runs/my_pack/2026-12-01_120000")
CODES = ["E135", "E300", "E301", "E302", "E303", "E310", "E311", "E312", "E313", "E314", "E315",
         "E316"]  # fmt: skip
NEEDS_A_RUN = {"E302", "E310", "E311", "E312", "E313", "E314", "E316"}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    pack = tiny_pack(folder, "L0_5_dual_resource").rename(folder / "my_pack")
    run_dir = run_training(RunOptions(pack=pack, episodes=2, out=folder / "runs")).run_dir
    return run_dir


def _build(code: str, finished_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Create, in the current folder, what the example of ``code`` runs on."""
    tiny_pack(Path("."), "L0_5_dual_resource").rename("my_pack")
    if code in NEEDS_A_RUN:
        shutil.copytree(finished_run, RUN)
    if code == "E312":
        (RUN / "metrics.sqlite").write_bytes(b"not a database\n" * 100)
    elif code == "E313":
        import hamlet.runtime.files as files

        def full(fd: int) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(files.os, "fsync", full)
    elif code == "E316":  # (the learner process is a fork: it takes the patch along)
        from hamlet.runtime.learning.trainer import Trainer

        def out_of_memory(self, beta: float, weight: float) -> None:
            raise MemoryError("no room for a gradient step")

        monkeypatch.setattr(Trainer, "gradient_step", out_of_memory)
    elif code == "E303":
        monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    elif code == "E315":  # a program listening on the example's port, for the test's length
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", 8000))
        except OSError:  # someone already listens there: the example holds all the same
            listener.close()
        else:
            listener.listen()
            monkeypatch.setattr(sys, "_hamlet_test_listener", listener, raising=False)
    elif code == "E314":
        with sqlite3.connect(RUN / "metrics.sqlite") as db:
            db.execute("UPDATE recordings SET path = '../../../../etc/passwd' WHERE episode = 0")


@pytest.mark.parametrize("code", CODES)
def test_documented_output_is_what_hamlet_prints(code, finished_run, tmp_path, monkeypatch, capsys):
    if code == "E301" and torch.version.cuda is not None:
        # (a CUDA build without a GPU says so instead: tests/runtime/test_devices.py)
        pytest.skip("the example is of a CPU-only build of PyTorch")
    monkeypatch.chdir(tmp_path)
    _build(code, finished_run, monkeypatch)
    status, printed, shown = run_documented_example(code, capsys)
    assert status == (2 if code in {"E135", "E300"} else 1)  # usage errors
    assert printed == shown

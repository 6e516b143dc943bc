"""Helpers of the compiler's tests."""

from __future__ import annotations

import pytest

from hamlet.compiler.cli import main


def run_hamletc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``hamletc argv``: its exit status (argparse's exits included), stdout and stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err

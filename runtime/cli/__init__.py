"""``hamlet``: work with config packs, trained models and runs.

Exit codes: 0 success, 1 a problem with the input (explained on stderr), 2 a
usage error. ``parser.py`` declares the commands and their flags, ``commands.py``
says what each one does.

Imports: any room (each command imports what it calls when it runs); nothing imports
the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence

from hamlet.compiler.cli import run_cli

from .parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(build_parser(), argv)

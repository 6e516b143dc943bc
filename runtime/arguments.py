"""The argument types of ``hamlet``'s command line, and where a path leads."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PORT = 8765
"""Where ``hamlet run --serve`` streams and ``hamlet watch`` looks, unless told."""
SPEED_HELP = "viewer steps per second to start with (default 10; + and - change it)"


def port(text: str) -> int:
    """An argparse type: a TCP port (0 lets the system pick a free one)."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port (0..65535; 0 picks a free one)")
    return int(text)


def speed(text: str) -> float:
    """An argparse type: viewer steps per second, in (0, 1000]."""
    value = _number(text)
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"'{text}' is not a speed in steps/s (0 < speed <= 1000)")
    return value


def probability(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a probability (0..1)")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def newest_model(path: Path) -> Path:
    """``path`` itself, or the newest inference checkpoint of a run directory, or of the
    newest run in a folder of runs."""
    if not path.is_dir():
        return path
    runs = sorted(p for p in path.iterdir() if (p / "checkpoints").is_dir())
    run = path if (path / "checkpoints").is_dir() else (runs[-1] if runs else path)
    models = sorted((run / "checkpoints").glob("model_ep*.pt"))
    return models[-1] if models else path

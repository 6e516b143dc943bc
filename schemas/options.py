"""Values typed on the command line, checked where argparse reads them: one set of
argument types for ``hamletc`` and ``hamlet``, each refusing with the range it wants.

>>> seed("7"), minutes("2.5"), gibibytes("0.5")
(7, 2.5, 536870912)
"""

from __future__ import annotations

import argparse
import decimal
import math
import re

_WHOLE = re.compile(r"[0-9][0-9_]*(\.[0-9]+)?([eE]\+?[0-9]{1,2})?")


def positive_int(text: str) -> int:
    """An argparse type: a positive integer, also written ``2_000_000`` or ``2e6`` (a
    whole number in exponent form, at most ``e99``).

    >>> positive_int("2e6"), positive_int("1.5e3"), positive_int("2_000")
    (2000000, 1500, 2000)
    """
    value = decimal.Decimal(text.replace("_", "")) if _WHOLE.fullmatch(text) else None
    if value is None or value != value.to_integral_value() or value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(value)


def gibibytes(text: str) -> int:
    """An argparse type: a positive number of GiB, as bytes (``1.5`` -> 1610612736)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive number of GiB")
    return max(1, int(value * 2**30))


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


def frame_rate(text: str) -> float:
    """An argparse type: frames per second of an animation, in (0, 50] (a GIF counts time
    in hundredths of a second, and most players show no more than 50 frames a second)."""
    value = _number(text)
    if not 0 < value <= 50:
        raise argparse.ArgumentTypeError(f"'{text}' is not a frame rate (0 < fps <= 50)")
    return value


def probability(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a probability (0..1)")
    return value


def seed(text: str) -> int:
    """An argparse type: a seed, 0 to 2**63 - 1."""
    if not text.isdigit() or int(text) > 2**63 - 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a seed (a whole number, 0 to 2**63-1)")
    return int(text)


def seed_list(text: str) -> list[int]:
    """An argparse type: seeds separated by commas."""
    seeds = [seed(part.strip()) for part in text.split(",")]
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"'{text}' names a seed twice")
    return seeds


def minutes(text: str) -> float:
    """An argparse type: a duration in minutes, above 0."""
    value = _number(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of minutes above 0")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")

"""The config packs (one directory per level) and the built-in brains, as data files.

>>> pack_dir("L1_full_observability").name
'L1_full_observability'
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
BUILTINS_DIR = ROOT / "builtins"

PACK_NAMES: tuple[str, ...] = (
    "L0_0_minimal",
    "L0_5_dual_resource",
    "L1_full_observability",
    "L2_partial_observability",
    "L3_temporal_mechanics",
)


def pack_dir(name: str) -> Path:
    """Directory of the shipped config pack ``name``."""
    return ROOT / name


def builtin_names() -> list[str]:
    """Names of the built-in brains (``simple_q``, ``recurrent_spatial_q``, ...)."""
    return sorted(p.stem for p in BUILTINS_DIR.glob("*.yaml"))


def builtin_path(name: str) -> Path:
    """The YAML file of the built-in brain ``name``."""
    return BUILTINS_DIR / f"{name}.yaml"

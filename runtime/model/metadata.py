"""A checkpoint's ``metadata``: plain data, and the keys HAMLET reads have their types.

Metadata is shown by ``hamlet inspect``, copied into exports as JSON and read back by
evaluation and the viewer (``pack``, ``affordance_layout``), so it is checked on
saving and on loading: a dict of names to JSON-like values, and for the keys below
the type they must have. ``None`` always stands for "not known".

>>> check_affordance_layout({"Bed": [0, 1], "Job": [2, 2]}, affordances=["Bed", "Job"], grid_size=3)
{'Bed': (0, 1), 'Job': (2, 2)}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .entries import (
    check_plain,
    clip,
    count,
    entry_error,
    join,
    kind,
    names,
    probability,
    shown,
)


def _text(value: Any, file: str, path: str) -> str:
    if not isinstance(value, str):
        raise entry_error(file, path, f"'{path}' is {shown(value)}; it must be text")
    return value


def _name(value: Any, file: str, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise entry_error(file, path, f"'{path}' is {shown(value)}; it must be a name")
    return value


def _whole(value: Any, file: str, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise entry_error(file, path, f"'{path}' is {shown(value)}; it must be a whole number")
    return value


def _positive(value: Any, file: str, path: str) -> int:
    if count(value, file, path) == 0:
        raise entry_error(file, path, f"'{path}' is 0; it must be at least 1")
    return value


def _mapping(value: Any, file: str, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise entry_error(file, path, f"'{path}' is {kind(value)}; it must be a dict")
    return value


def check_metadata(value: Any, file: str, path: str = "metadata") -> dict[str, Any]:
    """``value`` as a metadata dict, or a CheckpointError (E204) naming the bad entry."""
    if not isinstance(value, Mapping):
        raise entry_error(
            file, path, f"the checkpoint's '{path}' is {kind(value)}; it must be a dict"
        )
    check_plain(value, file, path, json_only=True)
    for key, check in KNOWN.items():
        if value.get(key) is not None:
            check(value[key], file, join(path, key))
    return dict(value)


def affordance_layout(
    value: Any, file: str = "<input>", path: str = "metadata.affordance_layout"
) -> dict[str, tuple[int, int]] | None:
    """``{name: (x, y)}`` from a stored ``{name: [x, y]}`` (None: a new layout each
    episode). Checks the types only; :func:`check_affordance_layout` checks a layout
    against the world it is used in."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        what = "empty" if isinstance(value, Mapping) else kind(value)
        raise entry_error(
            file,
            path,
            f"'{path}' is {what}; it must map each affordance to its cell [x, y]",
        )
    layout = {}
    for name, cell in value.items():
        where = join(path, name)
        if not isinstance(name, str) or not name:
            raise entry_error(file, path, f"'{path}' has a key that is not an affordance name")
        if (
            not isinstance(cell, list | tuple)
            or len(cell) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in cell)
        ):
            raise entry_error(
                file,
                where,
                f"'{where}' is {_cell(cell)}; a cell is [x, y], two whole numbers >= 0",
            )
        layout[name] = (cell[0], cell[1])
    return layout


KNOWN: dict[str, Callable[[Any, str, str], Any]] = {
    "episode": count,
    "curriculum_stage": count,
    "epsilon": probability,
    "seed": _whole,
    "agents": _positive,
    "pack": _name,
    "pack_path": _text,
    "hamlet_version": _text,
    "migrated_from": _text,
    "source_format": _text,
    "created_at": _text,
    "action_names": names,
    "meter_names": names,
    "observation_layout": _mapping,
    "affordance_layout": affordance_layout,
}
"""The keys HAMLET reads, each with the check of its value."""


def check_affordance_layout(
    layout: Any,
    *,
    affordances: Iterable[str],
    grid_size: int,
    file: str | None = None,
    path: str = "metadata.affordance_layout",
) -> dict[str, tuple[int, int]]:
    """A stored affordance layout, checked against the world it is to be used in:
    every one of ``affordances`` placed (and no other), each inside the ``grid_size`` x
    ``grid_size`` grid, no two on one cell. Returns ``{name: (x, y)}``; a layout that
    does not fit is a CheckpointError (E302), one that is malformed E204."""
    file = file or "<input>"
    cells = affordance_layout(layout, file, path)
    if cells is None:
        raise entry_error(file, path, f"'{path}' is None: the checkpoint holds no fixed layout")
    wanted = list(affordances)
    problems = []
    missing = [n for n in wanted if n not in cells]
    extra = sorted(set(cells) - set(wanted))
    if missing:
        problems.append(f"it does not place {_listed(missing)}")
    if extra:
        problems.append(f"it places {_listed(extra)}, which this world does not have")
    outside = [n for n, (x, y) in cells.items() if x >= grid_size or y >= grid_size]
    if outside:
        verb = "lies" if len(outside) == 1 else "lie"
        problems.append(f"{_listed(outside)} {verb} outside the {grid_size}x{grid_size} grid")
    by_cell: dict[tuple[int, int], list[str]] = {}
    for name, cell in cells.items():
        by_cell.setdefault(cell, []).append(name)
    for group in by_cell.values():
        if len(group) > 1:
            problems.append(f"{_listed(group, ' and ')} share a cell")
    if problems:
        raise entry_error(
            file,
            path,
            "the stored affordance layout does not fit this world: " + "; ".join(problems[:4]),
            hint="play it in the pack it was trained in, or let the world draw a new layout",
            code="E302",
        )
    return cells


def _listed(names: list[str], separator: str = ", ") -> str:
    shown_names = [clip(name, 40) for name in names[:8]]
    return separator.join(shown_names) + (f" (and {len(names) - 8} more)" if len(names) > 8 else "")


def _cell(cell: Any) -> str:
    if isinstance(cell, list | tuple) and len(cell) <= 4:
        return "[" + ", ".join(shown(v, 20) for v in cell) + "]"
    return shown(cell)

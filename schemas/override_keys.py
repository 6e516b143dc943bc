"""Which file of a config pack a command-line key belongs to, read from the JSON Schemas.

A ``--set`` key such as ``learning.gamma`` names no file; the schemas say which file
has it. :func:`locate` walks a key's parts through each file's schema (``$ref``,
``allOf``/``anyOf``/``oneOf`` and ``if``/``then`` branches all count, so a network
node takes the keys of every node kind here; the key's own kind is checked later,
with the data). A key found in exactly one file belongs to it; one found in none gets
the nearest miss, with the keys known at that level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .errors import suggestion
from .source import format_path
from .validate import load_schema

FILES: tuple[str, ...] = ("brain", "training", "bars", "affordances", "cascades")
"""The files a ``--set`` can reach, as named in a file prefix (``training.run.seed``)."""

Part = str | int


@dataclass(frozen=True)
class KeyProblem:
    """Why a key is not one the schema of ``file`` (or of any file) defines."""

    code: str
    message: str
    hint: str
    depth: int
    """Index of the part the problem is about."""
    file: str | None = None


@dataclass
class _Level:
    """What the schema allows at one place: named keys, any key, list entries."""

    keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    any_key: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    positional: list[list[dict[str, Any]]] = field(default_factory=list)
    """Schemas of the first entries, one by one (``prefixItems``)."""

    @property
    def is_list(self) -> bool:
        return bool(self.items or self.positional)

    @property
    def is_list_only(self) -> bool:
        return self.is_list and not self.keys and not self.any_key

    def entry(self, index: int) -> list[dict[str, Any]]:
        """The schemas of entry ``index``."""
        if index < len(self.positional):
            return self.positional[index]
        return self.items or [s for schemas in self.positional for s in schemas]


def _level(schemas: Sequence[dict[str, Any]], root: dict[str, Any]) -> _Level:
    level = _Level()
    pending = list(schemas)
    seen: set[int] = set()
    while pending:
        schema = pending.pop()
        if not isinstance(schema, dict) or id(schema) in seen:
            continue
        seen.add(id(schema))
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            pending.append(root["$defs"][ref.removeprefix("#/$defs/")])
        for combinator in ("allOf", "anyOf", "oneOf"):
            pending.extend(schema.get(combinator, []))
        pending.extend(schema[k] for k in ("then", "else") if k in schema)
        for name, sub in schema.get("properties", {}).items():
            level.keys.setdefault(name, []).append(sub)
        if isinstance(schema.get("additionalProperties"), dict):
            level.any_key.append(schema["additionalProperties"])
        if isinstance(schema.get("items"), dict):
            level.items.append(schema["items"])
        for index, sub in enumerate(schema.get("prefixItems", [])):
            if index == len(level.positional):
                level.positional.append([])
            level.positional[index].append(sub)
    return level


def walk(file: str, parts: Sequence[Part]) -> KeyProblem | None:
    """None when the schema of ``file`` has the key ``parts``, else the first problem."""
    root = load_schema(file)
    schemas: list[dict[str, Any]] = [root]
    for depth, part in enumerate(parts):
        level = _level(schemas, root)
        where = format_path(parts[:depth])
        if isinstance(part, int):
            if not level.is_list:
                what = f"'{where}' is not a list" if where else f"{file}.yaml is not a list"
                return KeyProblem(
                    "E112",
                    f"{what}: it has no entry [{part}]",
                    f"write a key of {where or file + '.yaml'} after a dot, not an [index]",
                    depth,
                    file,
                )
            schemas = level.entry(part)
        elif part in level.keys:
            schemas = level.keys[part]
        elif level.any_key:
            schemas = level.any_key
        elif level.is_list_only:
            return KeyProblem(
                "E112",
                f"'{where}' is a list: it has no key '{part}'",
                f"name an entry by its position first, as in {where}[0].{part}",
                depth,
                file,
            )
        else:
            inside = f"'{where}'" if where else f"{file}.yaml"
            hint = (
                suggestion(part, level.keys, what="keys")
                if level.keys
                else f"{inside} takes a single value, not keys: set it whole"
            )
            return KeyProblem("E110", f"unknown key '{part}' in {inside}", hint, depth, file)
    return None


@dataclass(frozen=True)
class Located:
    """Every file whose schema has a key, and the one it belongs to (None when that is
    not one file among those asked for)."""

    file: str | None
    holders: tuple[str, ...]


def locate(parts: Sequence[Part], files: Sequence[str] = FILES) -> Located | KeyProblem:
    """The file among ``files`` whose schema has the key ``parts``.

    ``holders`` lists every file of :data:`FILES` that has it; ``file`` is the one
    holder among ``files``, or None when there are several (the key needs a file
    prefix) or none. A key that no file has is a :class:`KeyProblem`, at the part where
    the nearest file of ``files`` lost it.

    >>> locate(["exploration", "epsilon", "decay"])
    Located(file='training', holders=('training',))
    >>> locate(["learning", "gama"]).hint
    "did you mean 'gamma'?"
    """
    problems = {name: walk(name, parts) for name in FILES}
    holders = tuple(name for name in FILES if problems[name] is None)
    if holders:
        usable = [name for name in holders if name in files]
        return Located(usable[0] if len(usable) == 1 else None, holders)
    nearest = max((problems[name] for name in files), key=lambda p: p.depth if p else -1)
    if nearest is not None and nearest.depth > 0:
        return nearest
    return _unknown_root(parts, files)


def _unknown_root(parts: Sequence[Part], files: Sequence[str]) -> KeyProblem:
    first = str(parts[0])
    roots = sorted({key for name in files for key in _root_keys(name)})
    ends = [format_path(key) for key in _all_keys(files) if _ends_with(key, parts)]
    if len(parts) == 1 and first in FILES:
        hint = f"name a setting of {first}.yaml after a dot, as in {_example(first)}"
    elif ends:
        hint = "did you mean " + " or ".join(f"'{key}'" for key in ends[:4]) + "?"
    else:
        hint = suggestion(first, [*roots, *files], what="first keys")
    where = "no file of the pack has it" if len(files) > 1 else f"{files[0]}.yaml has no such key"
    return KeyProblem("E110", f"unknown key '{first}': {where}", hint, 0)


def _root_keys(file: str) -> list[str]:
    return list(_level([load_schema(file)], load_schema(file)).keys)


def _example(file: str) -> str:
    return {
        "brain": "brain.learning.gamma",
        "training": "training.run.seed",
        "bars": "bars.meters[0].initial",
        "affordances": "affordances.affordances[0].costs",
        "cascades": "cascades.cascades[0].strength",
    }[file]


def _ends_with(key: tuple[Part, ...], parts: Sequence[Part]) -> bool:
    shape = tuple(0 if isinstance(p, int) else p for p in parts)
    return len(key) > len(shape) and key[-len(shape) :] == shape


def _all_keys(files: Sequence[str]) -> list[tuple[Part, ...]]:
    return [key for name in files for key in _keys_of(name)]


@cache
def _keys_of(file: str) -> tuple[tuple[Part, ...], ...]:
    """Every key path the schema of ``file`` names (list entries as index 0), to depth 6."""
    root = load_schema(file)
    found: list[tuple[Part, ...]] = []
    stack: list[tuple[tuple[Part, ...], list[dict[str, Any]]]] = [((), [root])]
    while stack:
        path, schemas = stack.pop()
        if len(path) >= 6:
            continue
        level = _level(schemas, root)
        for name, subs in level.keys.items():
            found.append((*path, name))
            stack.append(((*path, name), subs))
        if level.is_list:
            stack.append(((*path, 0), level.entry(0)))
    return tuple(sorted(found, key=lambda p: (len(p), format_path(p))))

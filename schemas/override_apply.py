"""Writing settings from the command line into a loaded file, before it is validated.

The overrides of a file go into its :class:`~hamlet.schemas.source.YamlDocument`: the
data (so that the schema, the defaults, the cross-file checks and the spec hash all see
them) and the places (so that a problem with an overridden value points at its
``--set``, never at the line of the file it replaced). A key the file does not write
yet is added, with the mappings above it; a list entry must exist already.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .errors import Diagnostic, SpecError
from .override import Override, conflicts
from .source import PathKey, YamlDocument, _yaml_type, format_path


def apply_overrides(doc: YamlDocument, overrides: Sequence[Override], file: str) -> None:
    """Write the overrides of ``file`` (``"training"``, ...) into ``doc``, in order.

    Raises :class:`~hamlet.schemas.errors.SpecError`: E112 where a key goes into
    something that is not a mapping (or an index into something not a list), E113 for
    an index past the end of a list, E101 for a setting given twice.
    """
    mine = [o for o in overrides if o.file == file]
    problems = conflicts(mine)
    for override in mine if not problems else ():
        try:
            _apply(doc, override)
        except SpecError as error:
            problems.extend(error.errors)
    if problems:
        raise SpecError(problems)


def _apply(doc: YamlDocument, override: Override) -> None:
    path = override.path
    container: Any = doc.data
    for depth, part in enumerate(path):
        parent = format_path(path[:depth])
        last = depth == len(path) - 1
        if isinstance(part, str):
            if not isinstance(container, dict):
                raise SpecError(
                    _problem(
                        override,
                        depth,
                        "E112",
                        f"'{parent}' is {_described(container)}, so it has no key '{part}'",
                        f"set it whole, e.g. --set {parent}={{{part}: ...}}",
                    )
                )
            if last:
                container[part] = _copy(override.value)
                break
            if container.get(part) is None:  # not written (or written empty): add it
                if isinstance(path[depth + 1], int):
                    here = format_path(path[: depth + 1])
                    raise SpecError(
                        _problem(
                            override,
                            depth + 1,
                            "E113",
                            f"{doc.file} does not write '{here}', so it has no entry "
                            f"[{path[depth + 1]}]",
                            f"set the whole list: --set {here}=[...]",
                        )
                    )
                container[part] = {}
                _place(doc, override, path[: depth + 1], override.key_columns[depth])
            container = container[part]
        else:
            if not isinstance(container, list):
                raise SpecError(
                    _problem(
                        override,
                        depth,
                        "E112",
                        f"'{parent}' is {_described(container)}, not a list: it has no "
                        f"entry [{part}]",
                        f"write a key of '{parent}' after a dot",
                    )
                )
            if part >= len(container):
                size = len(container)
                hint = f"use an index from 0 to {size - 1}, " if size else ""
                raise SpecError(
                    _problem(
                        override,
                        depth,
                        "E113",
                        f"[{part}] is past the end of '{parent}', which has "
                        + (f"{size} entr{'y' if size == 1 else 'ies'}" if size else "none"),
                        hint + f"or set the whole list: --set {parent}=[...]",
                    )
                )
            if last:
                container[part] = _copy(override.value)
                break
            container = container[part]
    _forget(doc, path)
    _place(doc, override, path, override.key_columns[-1])
    doc.values[path] = override.position(override.value_column)
    for inner, column in override.value_keys.items():
        doc.keys[path + inner] = override.position(column)
    for inner, column in override.value_places.items():
        doc.values[path + inner] = override.position(column)


def _place(doc: YamlDocument, override: Override, path: PathKey, column: int) -> None:
    doc.keys[path] = doc.values[path] = override.position(column)


def _forget(doc: YamlDocument, path: PathKey) -> None:
    """Drop the places of the value the override replaced (and of all inside it)."""
    for table in (doc.keys, doc.values):
        for stale in [p for p in table if p[: len(path)] == path]:
            del table[stale]


def _problem(override: Override, depth: int, code: str, message: str, hint: str) -> Diagnostic:
    position = override.position(override.key_columns[depth])
    return Diagnostic(
        code,
        message,
        hint=hint,
        file=position.file,
        line=position.line,
        column=position.column,
        path=format_path(override.path[: depth + 1]),
    )


def _described(value: Any) -> str:
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"the {_yaml_type(value)} {json.dumps(value)}"


def _copy(value: Any) -> Any:
    """A copy of plain data (values nest at most MAX_DEPTH levels)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value

"""The text of a ``--set``: its key split into names and indexes, its value read as YAML,
a sweep's values split at their commas, and the places of both on the command line.

Nothing here knows the schemas; :mod:`.override` checks the key against them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import Diagnostic, SpecError, UsageError
from .override_keys import Part
from .scalars import scalar_problems
from .source import PathKey, parse_yaml, shown

COMMAND_LINE = "<command line>"
"""The ``file`` of every diagnostic about a ``--set``."""
FLAG = "--set "
"""How each ``--set`` is shown in :func:`.override.command_line_source` (columns count it)."""
MAX_DEPTH = 32
"""Deepest nesting a value may have; settings nest a few levels at most."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"\[([0-9]+)\]")
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""What str.splitlines splits on: a --set holding one would shift every later line."""
_SYNTAX = (
    "write --set KEY=VALUE, e.g. --set learning.gamma=0.95 or --set bars.meters[0].initial=0.8"
)


def at(index: int, column: int, path: str, code: str, message: str, hint: str | None) -> Diagnostic:
    """A diagnostic at ``column`` (0-based) of the ``index``-th ``--set`` (from 0)."""
    return Diagnostic(
        code,
        message,
        hint=hint,
        file=COMMAND_LINE,
        line=index + 1,
        column=len(FLAG) + column + 1,
        path=path,
    )


# --- the key --------------------------------------------------------------------------


def split(text: str, index: int) -> tuple[str, int]:
    """The key, and where the value starts."""
    broken = next((i for i, c in enumerate(text) if c in _BREAKS), None)
    if broken is not None:
        raise UsageError(
            at(
                index,
                broken,
                "",
                "E300",
                "a --set must be one line: it holds a line break",
                "write the value on one line (in double quotes, \\n is a line break)",
            )
        )
    key, equals, _ = text.partition("=")
    if not equals:
        raise UsageError(at(index, 0, "", "E300", f"--set {shown(text)} is not KEY=VALUE", _SYNTAX))
    if not key:
        raise UsageError(at(index, 0, "", "E300", "--set gives no key before '='", _SYNTAX))
    return key, len(key) + 1


def key_parts(key: str, index: int) -> list[tuple[Part, int]]:
    """The names and indexes of ``key`` with their columns, or E300 where it goes wrong.

    >>> key_parts("bars.meters[2].initial", index=0)
    [('bars', 0), ('meters', 5), (2, 11), ('initial', 15)]
    """
    parts: list[tuple[Part, int]] = []
    pos = 0
    while True:
        name = _NAME.match(key, pos)
        if name is None:
            what = "a name (letters, digits, _)" + (" after the dot" if pos else "")
            raise UsageError(_syntax_error(key, index, pos, f"expected {what}"))
        parts.append((name.group(), pos))
        pos = name.end()
        while pos < len(key) and key[pos] == "[":
            entry = _INDEX.match(key, pos)
            if entry is None:
                raise UsageError(
                    _syntax_error(
                        key, index, pos, "a list index is a whole number in brackets, [0]"
                    )
                )
            parts.append((int(entry.group(1)), pos))
            pos = entry.end()
        if pos == len(key):
            return parts
        if key[pos] != ".":
            raise UsageError(_syntax_error(key, index, pos, "expected '.', '[' or '='"))
        pos += 1


def _syntax_error(key: str, index: int, pos: int, reason: str) -> Diagnostic:
    return at(
        index,
        pos,
        "",
        "E300",
        f"--set {shown(key)}=... has no valid key: {reason} at character {pos + 1}",
        "a key is names joined by dots, with [N] for the N-th entry of a list (from 0): "
        "learning.gamma, bars.meters[0].initial, training.run.seed",
    )


# --- the value ------------------------------------------------------------------------


_PREFIX = "v: "
"""A value is read as the value of this key: one YAML document of one line."""


@dataclass
class Value:
    """A ``--set``'s value, and the columns (0-based, in the ``--set`` text) of the keys
    and values inside it, by path relative to the value."""

    data: Any
    keys: dict[PathKey, int] = field(default_factory=dict)
    places: dict[PathKey, int] = field(default_factory=dict)


def read_value(text: str, start: int, index: int, path: str) -> Value:
    """The YAML value of ``text`` (a ``--set``'s value, at ``start`` of its ``--set``),
    or a SpecError placed there; ``path`` is the setting's, for the diagnostics."""

    def place(column: int | None) -> int:
        # a column of the "v: VALUE" document, 1-based -> 0-based in the --set text
        return start + max(0, (column or 1) - 1 - len(_PREFIX))

    def moved(d: Diagnostic) -> Diagnostic:
        suffix = d.path[1:] if d.path.startswith("v") else ""
        return at(index, place(d.column), path + suffix, d.code, d.message, d.hint)

    try:
        doc = parse_yaml(_PREFIX + text, COMMAND_LINE)
    except SpecError as error:
        raise SpecError([moved(d) for d in error.errors]) from None
    if list(doc.data) != ["v"]:
        raise SpecError(
            at(
                index,
                start,
                path,
                "E100",
                f"the value of --set {path} is not one YAML value",
                "write one value: a number, text, true/false, null, [a, b] or {key: value}",
            )
        )
    depth = _depth(doc.data["v"])
    if depth > MAX_DEPTH:
        raise SpecError(
            at(
                index,
                start,
                path,
                "E100",
                f"the value nests {depth} levels deep (at most {MAX_DEPTH})",
                "no setting nests this deep: check the brackets",
            )
        )
    problems = scalar_problems(doc)
    if problems:
        raise SpecError([moved(d) for d in problems])
    return Value(
        doc.data["v"],
        {p[1:]: place(pos.column) for p, pos in doc.keys.items() if len(p) > 1},
        {p[1:]: place(pos.column) for p, pos in doc.values.items()},
    )


def _depth(value: Any) -> int:
    """How many lists and mappings nest in ``value`` (0 for a single value)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:  # a loop, not recursion: the value may nest deeply
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            stack.extend(
                (v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


def grid_spans(text: str, start: int) -> list[tuple[int, int]]:
    """The spans of the values of ``KEY=V1,V2``: split at the commas that are outside
    brackets, braces and quotes, and before a `` #`` comment (the last value keeps it;
    YAML reads it as a comment).

    >>> text = "k=[1,2],'a,b',c # d,e"
    >>> [text[a:b] for a, b in grid_spans(text, start=2)]
    ['[1,2]', "'a,b'", 'c # d,e']
    """
    spans, begin, depth, quote = [], start, 0, ""
    pos = start
    while pos < len(text):
        char = text[pos]
        if quote:
            escaped = char == "\\" and quote == '"'
            doubled = char == quote == "'" and text[pos + 1 : pos + 2] == "'"
            if escaped or doubled:  # \" inside double quotes, '' inside single ones
                pos += 1
            elif char == quote:
                quote = ""
        elif char in "'\"" and _token_start(text, pos, start):
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(0, depth - 1)
        elif char == "#" and (pos == start or text[pos - 1] in " \t"):
            break
        elif char == "," and depth == 0:
            spans.append((begin, pos))
            begin = pos + 1
        pos += 1
    spans.append((begin, len(text)))
    return spans


def _token_start(text: str, pos: int, start: int) -> bool:
    """Whether a quote at ``pos`` opens a quoted scalar (in YAML a quote inside a plain
    word, as in ``it's``, is just a character)."""
    before = text[start:pos].rstrip(" \t")
    return not before or before[-1] in ",[{:"

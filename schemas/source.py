"""Load YAML into plain Python data while remembering where every value came from.

:func:`load_yaml` reads the parser events of ruamel.yaml (each knows its line and
column) and builds a :class:`YamlDocument`: the data as plain ``dict``/``list``/
scalars (YAML 1.2 core schema) plus an index from YAML path to source position, so
that any later stage can point at the exact key or value it objects to.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import Diagnostic, SpecError
from .yaml_syntax import marked, resolve_plain, syntax_message

PathKey = tuple[str | int, ...]
_MAX_NODES = 200_000
_STR = "tag:yaml.org,2002:str"  # guards against alias bombs; real specs have a few hundred nodes


@dataclass(frozen=True)
class Position:
    """1-based line and column in a source file (``file`` set when it differs from
    the document's own, as in a brain merged from the one it ``extends``)."""

    line: int
    column: int
    file: str | None = None


@dataclass
class YamlDocument:
    """Plain data of one YAML file plus the positions of its keys and values."""

    file: str
    text: str
    data: Any
    keys: dict[PathKey, Position] = field(default_factory=dict)
    values: dict[PathKey, Position] = field(default_factory=dict)

    def position(self, path: Sequence[str | int], *, key: bool = False) -> Position | None:
        """Where ``path`` is written; falls back to its nearest written ancestor."""
        path = tuple(path)
        while True:
            table = self.keys if key else self.values
            found = table.get(path) or self.keys.get(path) or self.values.get(path)
            if found is not None or not path:
                return found
            path = path[:-1]

    def diagnostic(
        self,
        code: str,
        message: str,
        path: Sequence[str | int] = (),
        *,
        hint: str | None = None,
        key: bool = False,
        severity: str = "error",
    ) -> Diagnostic:
        """A diagnostic placed at ``path`` in this document."""
        pos = self.position(path, key=key)
        return Diagnostic(
            code=code,
            message=message,
            hint=hint,
            file=(pos.file if pos and pos.file else self.file),
            line=pos.line if pos else None,
            column=pos.column if pos else None,
            path=format_path(path),
            severity=severity,  # type: ignore[arg-type]
        )


def shown(text: str) -> str:
    """``text`` as it can be printed: a non-printable character as its escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def format_path(path: Sequence[str | int]) -> str:
    """A YAML path as messages write it; a key that is not printable is quoted.

    >>> format_path(("network", "mlp", "hidden", 0))
    'network.mlp.hidden[0]'
    >>> print(format_path(("network", "head\\n")))
    network["head\\n"]
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).isprintable():
            out += f"[{shown(json.dumps(part, ensure_ascii=False))}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def display_path(path: str | Path) -> str:
    """A path as users should see it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (3.11)
        return str(path)


MAX_YAML_BYTES = 16 * 2**20
"""Brains and config packs are a few kB; a file this large was named by mistake."""


def load_yaml(path: str | Path, *, display_name: str | None = None) -> YamlDocument:
    """Read and parse a YAML file; every failure is a :class:`SpecError`."""
    name = display_name or display_path(path)
    try:
        if Path(path).stat().st_size > MAX_YAML_BYTES:
            raise SpecError(
                Diagnostic(
                    "E103",
                    f"{name} is {Path(path).stat().st_size:,} bytes, too large for a HAMLET "
                    f"file (at most {MAX_YAML_BYTES:,})",
                    hint="check the path: brains and config packs are a few kB",
                    file=name,
                )
            )
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            Diagnostic("E103", f"no such file: {name}", hint="check the path", file=name)
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise SpecError(
            Diagnostic("E103", f"cannot read {name}: {reason}", hint="check the path", file=name)
        ) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, file: str = "<string>") -> YamlDocument:
    """Parse YAML text; syntax errors and duplicate keys become :class:`SpecError`."""
    doc = YamlDocument(file=file, text=text, data=None)
    # libyaml's C parser (ruamel.yaml.clib) turns the text into events, each with its
    # line and column; _Composer builds plain data from them. This is several times
    # faster than ruamel's own composer and constructor, which resolve every scalar
    # through generic machinery we do not need.
    events = YAML(typ="safe", pure=False).parse(io.StringIO(text))
    try:
        root = _Composer(doc, events).document()
    except SpecError:
        raise
    except MarkedYAMLError as exc:
        raise SpecError(marked(exc, file, "E100", syntax_message(exc), text)) from None
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise SpecError(
            Diagnostic("E100", f"invalid YAML: {exc}", hint="fix the YAML syntax", file=file)
        ) from None
    if not isinstance(root, dict):
        found = "an empty file" if root is None else f"a {_yaml_type(root)}"
        raise SpecError(
            Diagnostic(
                "E102",
                f"expected a mapping of keys to values, found {found}",
                hint="write the document as `key: value` lines",
                file=file,
                line=1,
                column=1,
            )
        )
    doc.data = root
    return doc


class _Composer:
    """Builds plain data from parser events, recording the position of every value."""

    def __init__(self, doc: YamlDocument, events: Iterator[Any]) -> None:
        self.doc = doc
        self.events = events
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.size = 0

    def document(self) -> Any:
        kinds = [type(e).__name__ for e in itertools.islice(self.events, 2)]
        if kinds == ["StreamStartEvent", "StreamEndEvent"]:
            return None
        root = self.value(self._next(), ())
        end = type(self._next()).__name__
        if end == "DocumentEndEvent" and type(self._next()).__name__ != "StreamEndEvent":
            raise SpecError(
                self.doc.diagnostic(
                    "E100",
                    "the file holds more than one YAML document",
                    hint="remove the `---` separators: one file, one document",
                )
            )
        return root

    def _next(self) -> Any:
        return next(self.events)

    def value(self, event: Any, path: PathKey) -> Any:
        kind = type(event).__name__
        if kind == "AliasEvent":
            return self._alias(event, path)
        anchor = event.anchor
        start = self.size
        if kind == "ScalarEvent":
            self.size += 1
            result = self._scalar(event, path)
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            if anchor:
                self.open_anchors.add(anchor)
            result = (
                self._mapping(event, path)
                if kind == "MappingStartEvent"
                else self._sequence(event, path)
            )
            self.open_anchors.discard(anchor)
        else:
            raise SpecError(self.doc.diagnostic("E100", f"unexpected YAML {kind}", path))
        if self.size > _MAX_NODES:
            raise SpecError(self.doc.diagnostic("E100", "the document is too large", path))
        if anchor:
            self.anchors[anchor] = (result, self.size - start)
        return result

    def _alias(self, event: Any, path: PathKey) -> Any:
        if event.anchor in self.open_anchors:
            raise SpecError(self.doc.diagnostic("E100", "a YAML alias refers to itself", path))
        if event.anchor not in self.anchors:
            raise SpecError(
                Diagnostic(
                    "E100",
                    f"unknown YAML alias *{event.anchor}",
                    hint=f"define `&{event.anchor}` before using it",
                    file=self.doc.file,
                    **_place(event),
                )
            )
        value, size = self.anchors[event.anchor]
        self.size += size  # aliases share data, but later stages walk every copy
        if self.size > _MAX_NODES:
            raise SpecError(self.doc.diagnostic("E100", "the document is too large", path))
        return value

    def _mapping(self, start: Any, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        while True:
            event = self._next()
            if type(event).__name__ == "MappingEndEvent":
                return out
            key = self.value(event, path) if type(event).__name__ == "ScalarEvent" else event
            position = Position(**_place(event))
            here = (*path, str(key) if isinstance(key, str | int | float | bool) else "?")
            self.doc.keys[here] = position
            if not isinstance(key, str):
                raise SpecError(
                    self.doc.diagnostic(
                        "E112",
                        f"mapping keys must be text, found {_yaml_type(key)}",
                        here,
                        key=True,
                        hint="write the key as a plain name",
                    )
                )
            if key in first_line:
                raise SpecError(
                    Diagnostic(
                        "E101",
                        f"duplicate key '{key}' (first written on line {first_line[key]})",
                        hint="remove one of the two entries (other tools would silently keep "
                        "only the last)",
                        file=self.doc.file,
                        path=format_path(here),
                        **_place(event),
                    )
                )
            first_line[key] = position.line
            value_event = self._next()
            self.doc.values[here] = Position(**_place(value_event))
            out[key] = self.value(value_event, here)

    def _sequence(self, start: Any, path: PathKey) -> list[Any]:
        out: list[Any] = []
        while True:
            event = self._next()
            if type(event).__name__ == "SequenceEndEvent":
                return out
            here = (*path, len(out))
            self.doc.values[here] = Position(**_place(event))
            out.append(self.value(event, here))

    def _scalar(self, event: Any, path: PathKey) -> Any:
        text: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if event.style or not event.implicit[0]:
                return text  # quoted, or a block literal: always text
            return resolve_plain(text)
        name = str(tag).removeprefix("tag:yaml.org,2002:")
        typed = resolve_plain(text)
        expected = {"str": str, "int": int, "float": float, "bool": bool, "null": type(None)}
        if name == "str":
            return text
        if name in expected and isinstance(typed, expected[name]):
            return typed
        if name == "float" and isinstance(typed, int) and not isinstance(typed, bool):
            return float(typed)
        raise SpecError(
            self.doc.diagnostic(
                "E112",
                f"cannot read {text!r} as YAML tag {tag}",
                path,
                hint="write a plain number, text, true/false or null (no `!tags`)",
            )
        )


def _place(event: Any) -> dict[str, int]:
    return {"line": event.start_mark.line + 1, "column": event.start_mark.column + 1}


def _yaml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if value is None:
        return "null"
    return type(value).__name__

"""Load YAML into plain Python data while remembering where every value came from.

:func:`load_yaml` uses ruamel.yaml's round-trip loader (which keeps line and
column of every key and item) and returns a :class:`YamlDocument`: the data as
plain ``dict``/``list``/scalars plus an index from YAML path to source position,
so that any later stage can point at the exact key or value it objects to.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import Diagnostic, SpecError

PathKey = tuple[str | int, ...]
_MAX_NODES = 200_000  # guards against alias bombs; real specs have a few hundred nodes


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


def format_path(path: Sequence[str | int]) -> str:
    """``('network', 'mlp', 'hidden', 0)`` -> ``network.mlp.hidden[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(path: str | Path, *, display_name: str | None = None) -> YamlDocument:
    """Read and parse a YAML file; every failure is a :class:`SpecError`."""
    name = display_name or str(path)
    try:
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
    yaml = YAML(typ="rt")
    try:
        root = yaml.load(io.StringIO(text))
    except DuplicateKeyError as exc:
        raise SpecError(_marked(exc, file, "E101", _duplicate_message(exc))) from None
    except MarkedYAMLError as exc:
        raise SpecError(_marked(exc, file, "E100", _syntax_message(exc))) from None
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise SpecError(
            Diagnostic("E100", f"invalid YAML: {exc}", hint="fix the YAML syntax", file=file)
        ) from None
    doc = YamlDocument(file=file, text=text, data=None)
    if not isinstance(root, CommentedMap):
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
    doc.data = _Converter(doc).convert(root, ())
    return doc


class _Converter:
    """Turns ruamel's commented containers into plain data, recording positions."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.count = 0
        self.active: set[int] = set()

    def convert(self, node: Any, path: PathKey) -> Any:
        self.count += 1
        if self.count > _MAX_NODES:
            raise SpecError(self.doc.diagnostic("E100", "document is too large", path))
        if isinstance(node, CommentedMap | CommentedSeq):
            if id(node) in self.active:
                raise SpecError(self.doc.diagnostic("E100", "recursive YAML alias", path))
            self.active.add(id(node))
            try:
                if isinstance(node, CommentedMap):
                    return self._mapping(node, path)
                return self._sequence(node, path)
            finally:
                self.active.discard(id(node))
        return _scalar(node)

    def _mapping(self, node: CommentedMap, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in node:
            here = (*path, str(key))
            key_pos = _lc(node.lc.key, key)
            if key_pos:
                self.doc.keys[here] = key_pos
            value_pos = _lc(node.lc.value, key)
            if value_pos:
                self.doc.values[here] = value_pos
            if not isinstance(key, str):
                raise SpecError(
                    self.doc.diagnostic(
                        "E112",
                        f"mapping keys must be text, found {_yaml_type(key)} {key!r}",
                        here,
                        key=True,
                        hint="write the key as a plain name",
                    )
                )
            out[key] = self.convert(node[key], here)
        return out

    def _sequence(self, node: CommentedSeq, path: PathKey) -> list[Any]:
        out = []
        for index, item in enumerate(node):
            here = (*path, index)
            pos = _lc(node.lc.item, index)
            if pos:
                self.doc.values[here] = pos
            out.append(self.convert(item, here))
        return out


def _lc(getter: Any, key: Any) -> Position | None:
    try:
        line, column = getter(key)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return Position(line + 1, column + 1)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


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


def _marked(exc: MarkedYAMLError, file: str, code: str, message: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    hint = (
        "remove one of the two entries (the later one would silently win in other tools)"
        if code == "E101"
        else "fix the YAML syntax near this place (indentation, brackets, quotes, `key: value`)"
    )
    return Diagnostic(
        code,
        message,
        hint=hint,
        file=file,
        line=(mark.line + 1) if mark else None,
        column=(mark.column + 1) if mark else None,
    )


def _duplicate_message(exc: DuplicateKeyError) -> str:
    problem = str(exc.problem or "")
    # ruamel words it as 'found duplicate key "a" with value "2" (original value: "1")'
    key = problem.split('"')[1] if problem.count('"') >= 2 else "?"
    first = exc.context_mark.line + 1 if exc.context_mark else None
    where = f" (the mapping starts on line {first})" if first else ""
    return f"duplicate key '{key}'{where}"


def _syntax_message(exc: MarkedYAMLError) -> str:
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    text = f"{problem} {context}".strip() if problem else context
    return f"invalid YAML: {text or 'syntax error'}"

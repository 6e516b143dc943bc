"""What the YAML parser leaves to us: the value of a plain scalar (the YAML 1.2 core
schema), and a syntax error as a diagnostic placed where the user can see it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.error import MarkedYAMLError

from .errors import Diagnostic

_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")


def resolve_plain(text: str) -> Any:
    """The value of an unquoted scalar under the YAML 1.2 core schema.

    >>> [resolve_plain(t) for t in ("~", "true", "0x1F", "1e-3", "-.inf", "yes")]
    [None, True, 31, 0.001, -inf, 'yes']
    """
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.fullmatch(text):
        return int(text)
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    return text


def marked(
    exc: MarkedYAMLError, file: str, code: str, message: str, text: str | None = None
) -> Diagnostic:
    """The diagnostic of a syntax error, placed where the parser stopped. Where that is
    past the last line of ``text`` (nothing there to show), it is placed where the
    bracket, brace or quote left open begins, or else at the end of the last line."""
    mark = exc.problem_mark or exc.context_mark
    hint = "fix the YAML syntax near this place (indentation, brackets, quotes, `key: value`)"
    if mark is not None and text is not None and mark.line >= len(text.splitlines()):
        context = exc.context or ""
        if exc.context_mark is not None and any(o in context for o in _OPENERS):
            mark = exc.context_mark
            message += ", which the file ends without closing"
            hint = "close the bracket, brace or quote that begins here"
        else:
            lines = text.rstrip().splitlines() or [""]
            mark = _Mark(len(lines) - 1, len(lines[-1]))
            message += " at the end of the file"
    return Diagnostic(
        code,
        message,
        hint=hint,
        file=file,
        line=(mark.line + 1) if mark else None,
        column=(mark.column + 1) if mark else None,
    )


_OPENERS = ("flow sequence", "flow mapping", "quoted scalar")
"""What the parser was reading when a file ends too soon, in its words, that begins
with a bracket, a brace or a quote."""


@dataclass(frozen=True)
class _Mark:
    line: int
    column: int


def syntax_message(exc: MarkedYAMLError) -> str:
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    text = f"{problem} {context}".strip() if problem else context
    return f"invalid YAML: {text or 'syntax error'}"

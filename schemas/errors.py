"""Every problem with a user's input is a :class:`SpecError`.

A ``SpecError`` carries one or more :class:`Diagnostic` records. Each says *what*
is wrong (a stable code from :data:`CODES` and a message), *where* (file, line,
column and the YAML path such as ``network.memory.hidden``) and *how to fix it*
(the hint). :func:`render` turns a diagnostic into the text the CLIs print, with a
snippet of the offending source line.

The codes are part of the public interface: they never change meaning, and
``docs/errors.md`` documents each one (a test keeps the two in sync).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ErrorCode:
    """A stable error code: its short name and what it means."""

    code: str
    name: str
    summary: str


CODES: dict[str, ErrorCode] = {
    c.code: c
    for c in (
        ErrorCode("E100", "yaml-syntax", "The file is not valid YAML."),
        ErrorCode("E101", "duplicate-key", "A mapping names the same key twice."),
        ErrorCode("E102", "not-a-mapping", "The document is empty or is not a mapping."),
        ErrorCode("E103", "file-not-found", "A file that was named cannot be read."),
        ErrorCode("E110", "unknown-key", "A key that the schema does not define."),
        ErrorCode("E111", "missing-key", "A required key is absent."),
        ErrorCode("E112", "wrong-type", "A value has the wrong type."),
        ErrorCode("E113", "out-of-range", "A number or list length is outside its allowed range."),
        ErrorCode("E114", "invalid-value", "A value is not one of the allowed values or forms."),
        ErrorCode("E120", "unknown-node-kind", "A node's `kind` is not a registered node kind."),
        ErrorCode("E121", "unknown-reference", "An input names no node and no observation field."),
        ErrorCode("E122", "cycle", "Node inputs form a cycle."),
        ErrorCode("E123", "unused-node", "A node does not feed the Q-head (warning)."),
        ErrorCode("E124", "head-count", "The network needs exactly one `q_head` node."),
        ErrorCode("E125", "recurrent-count", "The network has more than one recurrent node."),
        ErrorCode("E126", "unknown-base", "`extends` names no built-in brain and no file."),
        ErrorCode("E127", "reserved-name", "A node name is reserved by the generated module."),
        ErrorCode("E130", "dimension-conflict", "An explicit size contradicts the inferred one."),
        ErrorCode("E131", "missing-observation-field", "The world has no such observation field."),
        ErrorCode("E132", "unresolved-auto", "An `auto` value has nothing to be inferred from."),
        ErrorCode("E133", "incompatible-shape", "A node cannot take the shape of its input."),
        ErrorCode("E134", "too-large", "A size would need more memory than the limit allows."),
        ErrorCode(
            "E135", "replay-too-small", "An agent's share of the replay is under one window."
        ),
        ErrorCode("E140", "inconsistent-config", "Values of a config pack contradict each other."),
        ErrorCode("E200", "checkpoint-unreadable", "A checkpoint file is missing or unreadable."),
        ErrorCode("E201", "checkpoint-corrupt", "A checkpoint is truncated or not a checkpoint."),
        ErrorCode("E202", "pickled-code", "A checkpoint carries pickled code; it is refused."),
        ErrorCode("E203", "unknown-format", "A checkpoint's format or version is not known."),
        ErrorCode("E204", "missing-entry", "A checkpoint lacks an entry its format requires."),
        ErrorCode("E205", "tensor-mismatch", "Checkpoint tensors do not fit the network."),
        ErrorCode("E206", "spec-hash-mismatch", "A checkpoint's spec does not match its hash."),
        ErrorCode("E207", "unknown-architecture", "The network of bare weights cannot be told."),
        ErrorCode("E208", "weights-digest-mismatch", "Weights do not match their stored digest."),
        ErrorCode("E209", "non-finite-weights", "A checkpoint holds NaN or infinite weights."),
        ErrorCode("E210", "export-failed", "A model could not be exported to the format."),
        ErrorCode("E211", "export-mismatch", "An exported model computes different values."),
        ErrorCode("E300", "invalid-option", "A command-line option has a value that cannot work."),
        ErrorCode("E301", "device-unavailable", "The device asked for is not available."),
        ErrorCode("E302", "world-mismatch", "A model does not fit the world it should act in."),
        ErrorCode("E303", "missing-extra", "A command needs an optional extra not installed."),
        ErrorCode("E310", "not-a-run", "A folder is not a run directory, or lacks a part of one."),
        ErrorCode("E311", "resume-conflict", "A run cannot be resumed as asked."),
        ErrorCode("E312", "metrics-damaged", "A run's metrics.sqlite is damaged or not HAMLET's."),
        ErrorCode("E313", "write-failed", "A file could not be written: disk full, no permission."),
        ErrorCode("E314", "recording-refused", "A recording is missing, damaged or leads outside."),
        ErrorCode("E315", "port-refused", "A port to serve on is in use or cannot be bound."),
        ErrorCode(
            "E316", "learner-failed", "A run's learner process raised an error or was killed."
        ),
    )
}


@dataclass(frozen=True)
class Diagnostic:
    """One problem, with its place in the source and a hint on how to fix it."""

    code: str
    message: str
    hint: str | None = None
    file: str | None = None
    line: int | None = None
    """1-based line, when known."""
    column: int | None = None
    """1-based column, when known."""
    path: str = ""
    """YAML path of the offending value, e.g. ``network.memory.hidden``."""
    severity: Severity = "error"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise KeyError(f"undocumented diagnostic code {self.code!r}")

    @property
    def location(self) -> str:
        """``file:line:column`` (as much of it as is known)."""
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        where = f" (at {self.path})" if self.path else ""
        text = f"{self.location}: {self.severity}[{self.code}] {self.message}{where}"
        return f"{text}\n  help: {self.hint}" if self.hint else text


class HamletError(Exception):
    """Base of every error HAMLET reports to its users.

    ``errors`` lists every diagnostic found (sorted by place); the attributes
    ``code``, ``file``, ``line``, ``column``, ``path`` and ``hint`` are those of the
    first one.
    """

    def __init__(self, diagnostics: Diagnostic | Sequence[Diagnostic]) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        if not diagnostics:
            raise ValueError("an error needs at least one diagnostic")
        self.errors: list[Diagnostic] = sort_diagnostics(diagnostics)
        first = self.errors[0]
        self.code, self.file, self.line, self.column = (
            first.code,
            first.file,
            first.line,
            first.column,
        )
        self.path, self.hint = first.path, first.hint
        super().__init__("\n".join(str(d) for d in self.errors))

    exit_status = 1
    """What ``hamlet`` and ``hamletc`` exit with: 1 for bad input, 2 for bad usage."""


class SpecError(HamletError, ValueError):
    """Bad user input: a brain spec or config pack that cannot be used as written."""


class UsageError(HamletError, ValueError):
    """A command-line option (or the argument of a library call) that cannot work; the
    commands exit with status 2 for it, as for the usage errors argparse finds."""

    exit_status = 2

    @classmethod
    def option(cls, flag: str, value: object, expected: str) -> UsageError:
        """E300 for a command-line option (or the keyword argument of the same name) whose
        value cannot work; ``expected`` says what would, as in "a number above 0". A
        ``value`` of None: the option is needed and was not given."""
        return cls(
            Diagnostic(
                "E300",
                f"{flag} is needed" if value is None else f"{flag} {value} cannot be used",
                hint=f"give {expected}",
                file="<command line>",
                path=flag,
            )
        )


class RunError(HamletError, RuntimeError):
    """A run that cannot start, resume or go on: its directory, its database, its device."""


class StorageError(HamletError, OSError):
    """A file that could not be written: a full disk, a read-only folder, no permission."""


class CheckpointError(HamletError, ValueError):
    """A checkpoint (or weights file) that cannot be loaded as it is."""


class ExportError(HamletError, RuntimeError):
    """A model that could not be exported, or whose export computes different values."""


class HamletWarning(UserWarning):
    """A problem that did not stop the work, with its diagnostic (the CLIs print it like an
    error, as a warning)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = (
            diagnostic
            if diagnostic.severity == "warning"
            else replace(diagnostic, severity="warning")
        )


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Unique diagnostics ordered by file, line and column."""
    unique = list(dict.fromkeys(diagnostics))
    return sorted(unique, key=lambda d: (d.file or "", d.line or 0, d.column or 0, d.code))


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word``, if any is close enough to be a likely typo."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def suggestion(word: str, candidates: Iterable[str], *, what: str = "") -> str:
    """A hint naming the likely intended word, or listing the valid ones."""
    candidates = sorted(set(candidates))
    best = did_you_mean(word, candidates)
    if best is not None:
        return f"did you mean '{best}'?"
    listed = ", ".join(f"'{c}'" for c in candidates[:12])
    more = ", ..." if len(candidates) > 12 else ""
    return f"valid {what or 'values'}: {listed}{more}" if candidates else "nothing is valid here"


@dataclass
class DiagnosticSink:
    """Collects diagnostics; raises them together as one :class:`SpecError`."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise SpecError(self.errors)


# --- rendering -------------------------------------------------------------------


def render(diagnostic: Diagnostic, source: str | None = None, *, color: bool = False) -> str:
    """Render a diagnostic the way the CLIs print it: message, place, snippet, hint.

    ``source`` is the text of ``diagnostic.file``; when omitted it is read from disk
    (a missing file just means no snippet).
    """
    red, yellow, blue, bold, reset = (
        ("\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[1m", "\x1b[0m") if color else ("",) * 5
    )
    tone = red if diagnostic.severity == "error" else yellow
    label = f"{tone}{bold}{diagnostic.severity}[{diagnostic.code}]{reset}"
    head = f"{label}{bold}: {diagnostic.message}{reset}"
    where = f"  {blue}-->{reset} {diagnostic.location}"
    if diagnostic.path:
        where += f"  ({diagnostic.path})"
    lines = [head, where]
    snippet = _snippet(diagnostic, source)
    if snippet:
        lines.extend(f"  {blue}{gutter}{reset}{text}" for gutter, text in snippet)
        lines[-1] = lines[-1].replace("^", f"{tone}^", 1) + reset if color else lines[-1]
    if diagnostic.hint:
        lines.append(f"  {blue}={reset} help: {diagnostic.hint}")
    return "\n".join(lines)


def _snippet(diagnostic: Diagnostic, source: str | None) -> list[tuple[str, str]]:
    if diagnostic.line is None:
        return []
    if source is None and diagnostic.file:
        try:
            source = Path(diagnostic.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return []
    if source is None:
        return []
    text_lines = source.splitlines()
    index = diagnostic.line - 1
    if not 0 <= index < len(text_lines):
        return []
    width = len(str(diagnostic.line + 1))
    rows: list[tuple[str, str]] = []
    if index > 0:
        rows.append((f"{diagnostic.line - 1:>{width}} | ", text_lines[index - 1]))
    line_text = text_lines[index]
    rows.append((f"{diagnostic.line:>{width}} | ", line_text))
    column = max(1, diagnostic.column or 1)
    underline = " " * (column - 1) + "^" * _token_length(line_text, column - 1)
    rows.append((f"{'':>{width}} | ", underline))
    return rows


_CLOSING = {"[": "]", "{": "}", '"': '"', "'": "'"}


def _token_length(line: str, start: int) -> int:
    """Length of the YAML token that starts at ``start`` (for the caret underline)."""
    if start >= len(line):
        return 1
    opener = line[start]
    if opener in _CLOSING:
        end = line.find(_CLOSING[opener], start + 1)
        return (end - start + 1) if end != -1 else len(line.rstrip()) - start
    end = start
    while end < len(line) and line[end] not in ",]}#" and not line.startswith(": ", end):
        end += 1
    if line[end - 1 : end] == ":" and end == len(line.rstrip()):
        end -= 1
    return max(1, len(line[start:end].rstrip()))

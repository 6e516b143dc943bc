"""Settings from the command line: ``--set KEY=VALUE``, read and checked like the YAML.

The grammar of one ``--set``::

    SET   := KEY "=" VALUE
    KEY   := [FILE "."] NAME INDEX* ("." NAME INDEX*)*
    FILE  := brain | training | bars | affordances | cascades
    NAME  := a letter or "_", then letters, digits and "_"
    INDEX := "[" DIGITS "]"            (a position in a list, from 0)
    VALUE := one YAML value on one line, read as the files are (YAML 1.2): 3e-4 is a
             number, [64, 64] a list, {every: 5} a mapping, true/false, null, "quoted text"

A key without a file prefix belongs to the one file whose schema has it
(:mod:`.override_keys`); ``version``, which every file has, needs one. For sweeps,
``KEY=V1,V2,V3`` (:func:`parse_grid`) gives several values: it splits on the commas
outside brackets, braces and quotes, so ``hidden=[64,64],[128,128]`` is two lists.

Every problem is an error placed on the command line: file ``<command line>``, line N
for the N-th ``--set``, the column of the offending key part or value.
:func:`command_line_source` gives the text those places point into, for
:func:`~hamlet.schemas.errors.render`.

>>> o = parse_override("learning.learning_rate=3e-4")
>>> (o.file, o.path, o.value, o.setting)
('brain', ('learning', 'learning_rate'), 0.0003, 'learning.learning_rate')
>>> [g.value for g in parse_grid("network.head.hidden=[64,64],[128]")]
[[64, 64], [128]]
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import Diagnostic, HamletError, SpecError, UsageError
from .override_keys import FILES, KeyProblem, locate, walk
from .override_syntax import COMMAND_LINE, FLAG, at, grid_spans, key_parts, read_value, split
from .source import PathKey, Position, format_path, shown


@dataclass(frozen=True)
class Override:
    """One setting from the command line, checked against the schemas.

    ``value`` is plain data (shared: copy it before changing it).
    """

    key: str
    """The key as written, file prefix included (``brain.learning.gamma``)."""
    value: Any
    value_text: str
    """The value as written (for a grid, this one value)."""
    file: str
    """The file it sets: ``brain``, ``training``, ``bars``, ``affordances``, ``cascades``."""
    path: PathKey
    """Its place in that file: ``("learning", "gamma")``."""
    setting: str
    """The key in canonical form: without a file prefix unless one is needed
    (``learning.gamma``, ``training.version``). Two overrides of the same setting have
    the same ``setting`` however they were written."""
    index: int = 0
    """Which ``--set`` of the command line this is (from 0): its line in diagnostics."""
    written: str = ""
    """The whole ``--set`` text as given (a grid's whole text)."""
    key_columns: tuple[int, ...] = ()
    """Where each part of ``path`` starts in ``written`` (0-based)."""
    value_column: int = 0
    """Where ``value_text`` starts in ``written`` (0-based)."""
    value_keys: dict[PathKey, int] = field(default_factory=dict, compare=False, repr=False)
    """Column (0-based, in ``written``) of each key inside the value, by relative path."""
    value_places: dict[PathKey, int] = field(default_factory=dict, compare=False, repr=False)
    """Column of the value and of each value inside it, by relative path (``()`` is
    the value itself)."""

    @property
    def text(self) -> str:
        """``KEY=VALUE`` for this one value, as written."""
        return f"{self.key}={self.value_text}"

    def position(self, column: int) -> Position:
        """The place of ``column`` (0-based in ``written``) in :func:`command_line_source`."""
        return Position(self.index + 1, len(FLAG) + column + 1, COMMAND_LINE)

    def __hash__(self) -> int:  # the value may be a list: hash what is always hashable
        return hash((self.file, self.path, self.value_text, self.index))


def parse_override(text: str, *, index: int = 0, files: Sequence[str] = FILES) -> Override:
    """Read one ``--set`` (``KEY=VALUE``): the key checked against the schemas of
    ``files``, the value read as YAML. ``index`` is its position among the ``--set``s.

    Raises :class:`~hamlet.schemas.errors.UsageError` (E300) for text that is not
    ``KEY=VALUE`` or a key that needs a file, and
    :class:`~hamlet.schemas.errors.SpecError` for an unknown key (E110) or a value
    that is not YAML (E100) or not finite (E114).
    """
    key, start = split(text, index)
    located = _locate(key, index, files)
    value_text = text[start:]
    if not value_text.strip():
        raise UsageError(
            at(
                index,
                len(text),
                format_path(located.path),
                "E300",
                f"--set {shown(key)}= gives no value",
                "write a value after '=' (null for none, '' for empty text)",
            )
        )
    return _value(located, text, index, start, value_text)


def parse_grid(text: str, *, index: int = 0, files: Sequence[str] = FILES) -> list[Override]:
    """Read a sweep's ``--set`` (``KEY=V1,V2,...``): one override per value, in order.

    Commas inside ``[...]``, ``{...}`` and quotes do not split, nor does a comment.

    >>> [o.text for o in parse_grid("exploration.epsilon.decay=0.99, 0.995")]
    ['exploration.epsilon.decay=0.99', 'exploration.epsilon.decay=0.995']
    """
    key, start = split(text, index)
    located = _locate(key, index, files)
    overrides, problems = [], []
    for begin, end in grid_spans(text, start):
        value_text = text[begin:end].strip()
        column = begin + len(text[begin:end]) - len(text[begin:end].lstrip())
        if not value_text:
            problems.append(
                at(
                    index,
                    column,
                    format_path(located.path),
                    "E300",
                    f"--set {shown(key)}: an empty value in the list of values",
                    "write one value between each two commas, e.g. KEY=0.9,0.95,0.99",
                )
            )
            continue
        try:
            overrides.append(_value(located, text, index, column, value_text))
        except HamletError as error:
            problems.extend(error.errors)
    _raise(problems)
    return overrides


def parse_overrides(texts: Sequence[str], *, files: Sequence[str] = FILES) -> tuple[Override, ...]:
    """Read the ``--set``s of a command line (one value each), in order. Every problem of
    every one is reported at once, a setting given twice too (E101).

    >>> [o.setting for o in parse_overrides(["run.seed=3", "brain.learning.gamma=0.9"])]
    ['run.seed', 'learning.gamma']
    """

    def one(text: str, index: int) -> list[Override]:
        return [parse_override(text, index=index, files=files)]

    return tuple(group[0] for group in _parse_all(texts, one))


def expand_grid(
    texts: Sequence[str], *, files: Sequence[str] = FILES
) -> list[tuple[Override, ...]]:
    """Every combination of a sweep's ``--set KEY=V1,V2``s, the last key varying fastest.

    >>> [[o.value for o in combo] for combo in expand_grid(["run.seed=0,1", "learning.gamma=0.9"])]
    [[0, 0.9], [1, 0.9]]
    """
    grids = _parse_all(texts, lambda text, index: parse_grid(text, index=index, files=files))
    return list(itertools.product(*grids))


def command_line_source(texts: Sequence[str]) -> str:
    """The text the diagnostics of ``--set``s point into: line N is ``--set`` and the N-th
    text. Pass it as ``source`` to :func:`~hamlet.schemas.errors.render` for diagnostics
    whose file is :data:`COMMAND_LINE`."""
    return "\n".join(FLAG + "".join(c if c.isprintable() else "\ufffd" for c in t) for t in texts)


def override_settings(overrides: Iterable[Override]) -> dict[str, Any]:
    """The overrides as JSON-ready data, by canonical key, in order: what a run records.

    ``f"{key}={json.dumps(value)}"`` reads back as the same override.

    >>> override_settings(parse_overrides(["brain.learning.gamma=0.9", "training.version=1"]))
    {'learning.gamma': 0.9, 'training.version': 1}
    """
    return {o.setting: o.value for o in overrides}


def override_texts(settings: Mapping[str, Any]) -> list[str]:
    """``KEY=VALUE`` texts that read back (:func:`parse_overrides`) as ``settings``: the
    inverse of :func:`override_settings`, e.g. for a sweep's recorded settings.

    >>> override_texts({"learning.gamma": 0.9, "description": "a, b"})
    ['learning.gamma=0.9', 'description="a, b"']
    """
    return [f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in settings.items()]


def conflicts(overrides: Sequence[Override]) -> list[Diagnostic]:
    """E101 for each setting given twice, or given inside another that is given whole."""
    problems = []
    for later, second in enumerate(overrides):
        for first in overrides[:later]:
            if first.file != second.file:
                continue
            shorter = min(len(first.path), len(second.path))
            if first.path[:shorter] != second.path[:shorter]:
                continue
            if first.path == second.path:
                message = f"{second.setting} is set twice"
                hint = "give each setting once (a sweep takes several values as KEY=V1,V2)"
            else:
                outer, inner = sorted((first, second), key=lambda o: len(o.path))
                message = f"{inner.setting} lies inside {outer.setting}, which is set too"
                hint = f"set either the whole of {outer.setting} or the keys inside it"
            problems.append(
                at(second.index, second.key_columns[0], second.setting, "E101", message, hint)
            )
            break
    return problems


# --- the key --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Located:
    key: str
    file: str
    path: PathKey
    columns: tuple[int, ...]
    setting: str


def _locate(key: str, index: int, files: Sequence[str]) -> _Located:
    parts = key_parts(key, index)
    explicit = len(parts) > 1 and parts[0][0] in FILES and isinstance(parts[1][0], str)
    body = parts[1:] if explicit else parts
    path = tuple(p for p, _ in body)
    columns = tuple(c for _, c in body)
    only = ", ".join(f"{f}.yaml" for f in files)
    if explicit:
        file = str(parts[0][0])
        problem = walk(file, path)
        if problem is not None:
            raise SpecError(_problem(problem, key, index, path, columns))
        if file not in files:
            raise UsageError(
                at(
                    index,
                    parts[0][1],
                    format_path(path),
                    "E300",
                    f"--set {key} sets {file}.yaml, which this command does not read",
                    f"this command takes settings of {only}",
                )
            )
    else:
        found = locate(path, files)
        if isinstance(found, KeyProblem):
            raise SpecError(_problem(found, key, index, path, columns))
        if found.file is None:
            usable = [f for f in found.holders if f in files]
            if usable:
                message = f"--set {key}: {_listed(usable)} each have the key {key}"
                hint = "name the file first: " + " or ".join(f"{f}.{key}" for f in usable)
            else:
                message = (
                    f"--set {key} sets {_listed(found.holders)}, which this command does not read"
                )
                hint = f"this command takes settings of {only}"
            raise UsageError(at(index, 0, key, "E300", message, hint))
        file = found.file
    if file == "brain" and path == ("extends",):
        raise UsageError(
            at(
                index,
                columns[0],
                "extends",
                "E300",
                "--set cannot change `extends`: the base brain is merged before the settings "
                "from the command line apply",
                "edit `extends:` in the brain's file, or set the keys you want to change",
            )
        )
    return _Located(key, file, path, columns, _canonical(file, path))


def _canonical(file: str, path: PathKey) -> str:
    bare = format_path(path)
    looks_prefixed = len(path) > 1 and path[0] in FILES and isinstance(path[1], str)
    found = locate(path)
    alone = not isinstance(found, KeyProblem) and found.holders == (file,)
    return bare if alone and not looks_prefixed else f"{file}.{bare}"


def _problem(
    problem: KeyProblem, key: str, index: int, path: PathKey, columns: tuple[int, ...]
) -> Diagnostic:
    where = format_path(path[: problem.depth + 1]) if problem.file else key
    return at(index, columns[problem.depth], where, problem.code, problem.message, problem.hint)


def _listed(files: Sequence[str]) -> str:
    names = [f"{f}.yaml" for f in files]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- the value ------------------------------------------------------------------------

# --- errors ---------------------------------------------------------------------------


def _parse_all(
    texts: Sequence[str], parse: Callable[[str, int], list[Override]]
) -> list[list[Override]]:
    results: list[list[Override]] = []
    problems: list[Diagnostic] = []
    for index, text in enumerate(texts):
        try:
            results.append(parse(text, index))
        except HamletError as error:
            problems.extend(error.errors)
    _raise(problems)
    _raise(conflicts([group[0] for group in results if group]))
    return results


def _raise(problems: list[Diagnostic]) -> None:
    if any(d.code == "E300" for d in problems):
        raise UsageError(problems)
    if problems:
        raise SpecError(problems)


def _value(located: _Located, text: str, index: int, start: int, value_text: str) -> Override:
    value = read_value(value_text, start, index, format_path(located.path))
    return Override(
        key=located.key,
        value=value.data,
        value_text=value_text,
        file=located.file,
        path=located.path,
        setting=located.setting,
        index=index,
        written=text,
        key_columns=located.columns,
        value_column=start,
        value_keys=value.keys,
        value_places=value.places,
    )

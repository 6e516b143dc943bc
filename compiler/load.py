"""Load a brain: a file, a built-in name, or in-memory data (a resolved spec).

``extends`` is applied here: the base brain is loaded first and the file's keys
are merged over it (mappings merge key by key, anything else replaces; a node
whose ``kind`` changes is replaced whole; ``node: null`` deletes a node). The
merged document remembers which file every value came from, so errors point at
the built-in's line when that is where the problem is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hamlet.configs import builtin_names, builtin_path
from hamlet.schemas.errors import Diagnostic, SpecError, suggestion
from hamlet.schemas.override import Override
from hamlet.schemas.override_apply import apply_overrides
from hamlet.schemas.source import Position, YamlDocument, display_path, load_yaml
from hamlet.schemas.validate import parse_model, validate_document

from .spec import BrainSpec


@dataclass(frozen=True)
class BrainSource:
    """A validated, typed brain spec and the document it was read from."""

    spec: BrainSpec
    doc: YamlDocument
    path: Path | None
    """The brain's file (None for in-memory data)."""


def load_brain(source: str | Path, *, overrides: Sequence[Override] = ()) -> BrainSource:
    """Load a brain file or a built-in brain by name (``simple_q``), applying ``extends``.

    ``overrides`` (settings from the command line) apply on top of the merged spec,
    before it is validated; those of other files are left alone.

    >>> load_brain("simple_q").spec.network["net"].kind
    'q_head'
    >>> from hamlet.schemas.override import parse_overrides
    >>> brain = load_brain("simple_q", overrides=parse_overrides(["learning.gamma=0.9"]))
    >>> brain.spec.learning.gamma
    0.9
    """
    path = locate_brain(source)
    doc = _load_with_bases(path, ())
    apply_overrides(doc, overrides, "brain")
    return BrainSource(_typed(doc), doc, path)


def brain_from_data(data: dict[str, Any], file: str = "<brain spec>") -> BrainSource:
    """Validate in-memory brain data, such as a resolved spec stored in a checkpoint.

    ``extends`` may name a built-in brain (there is no file to resolve paths against).
    """
    if not isinstance(data, dict):
        raise SpecError(Diagnostic("E102", "a brain spec must be a mapping", file=file))
    doc = YamlDocument(file=file, text="", data=_copy(data))
    base_ref = doc.data.get("extends")
    if isinstance(base_ref, str):
        if base_ref not in builtin_names():
            raise SpecError(
                doc.diagnostic(
                    "E126",
                    f"`extends: {base_ref}` names no built-in brain",
                    ("extends",),
                    hint=suggestion(base_ref, builtin_names(), what="built-in brains"),
                )
            )
        doc = merge_documents(_load_with_bases(builtin_path(base_ref), ()), doc)
    doc.data.setdefault("name", "brain")
    return BrainSource(_typed(doc), doc, None)


def locate_brain(source: str | Path) -> Path:
    """The file of ``source``: an existing path, or the YAML of a built-in brain."""
    path = Path(source)
    if path.is_file():
        return path
    if isinstance(source, str) and source in builtin_names():
        return builtin_path(source)
    looks_like_name = isinstance(source, str) and re.fullmatch(r"[A-Za-z0-9_]+", source)
    hint = (
        suggestion(str(source), builtin_names(), what="built-in brains")
        if looks_like_name
        else "check the path"
    )
    what = "file or built-in brain" if looks_like_name else "file"
    raise SpecError(Diagnostic("E103", f"no such {what}: {source}", hint=hint, file=str(source)))


def default_name(path: Path) -> str:
    """``configs/L1/brain.yaml`` -> ``L1``; ``my_net.yaml`` -> ``my_net``."""
    stem = path.resolve().parent.name if path.stem == "brain" else path.stem
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem)
    return name if re.match(r"[A-Za-z]", name) else f"brain_{name}"


def _typed(doc: YamlDocument) -> BrainSpec:
    validate_document(doc, "brain")
    return parse_model(doc, BrainSpec)


def brain_document(doc: YamlDocument, path: Path) -> YamlDocument:
    """What ``doc``, as the text of a brain file at ``path``, reads as: merged over the
    brain it ``extends``, with the default name when it has none."""
    return _with_bases(doc, path, ())


def _load_with_bases(path: Path, chain: tuple[Path, ...]) -> YamlDocument:
    return _with_bases(load_yaml(path), path, chain)


def _with_bases(doc: YamlDocument, path: Path, chain: tuple[Path, ...]) -> YamlDocument:
    own_name = isinstance(doc.data, dict) and "name" in doc.data
    base_ref = doc.data.get("extends")
    if isinstance(base_ref, str):
        base_path = _locate_base(doc, base_ref, path)
        if base_path.resolve() in chain or base_path.resolve() == path.resolve():
            cycle = " -> ".join(display_path(p) for p in (*chain, path.resolve(), base_path))
            raise SpecError(
                doc.diagnostic(
                    "E126",
                    f"`extends` loops back on itself: {cycle}",
                    ("extends",),
                    hint="remove `extends` from one of these files",
                )
            )
        doc = merge_documents(_load_with_bases(base_path, (*chain, path.resolve())), doc)
    if not own_name:
        doc.data["name"] = default_name(path)
    return doc


def _locate_base(doc: YamlDocument, ref: str, path: Path) -> Path:
    if ref in builtin_names():
        return builtin_path(ref)
    candidate = (path.parent / ref) if not Path(ref).is_absolute() else Path(ref)
    if ref.endswith((".yaml", ".yml")) and candidate.is_file():
        return candidate
    raise SpecError(
        doc.diagnostic(
            "E126",
            f"`extends: {ref}` names no built-in brain and no brain file",
            ("extends",),
            hint=suggestion(ref, builtin_names(), what="built-in brains")
            + " (or give a path ending in .yaml, relative to this file)",
        )
    )


def merge_documents(base: YamlDocument, override: YamlDocument) -> YamlDocument:
    """``override`` applied on top of ``base``, keeping every value's source position."""

    def tagged(table: dict[Any, Position], file: str) -> dict[Any, Position]:
        return {p: Position(pos.line, pos.column, pos.file or file) for p, pos in table.items()}

    return YamlDocument(
        file=override.file,
        text=override.text,
        data=_merge(_copy(base.data), override.data, ()),
        keys=tagged(base.keys, base.file) | tagged(override.keys, override.file),
        values=tagged(base.values, base.file) | tagged(override.values, override.file),
    )


def _merge(base: Any, over: Any, path: tuple[str, ...]) -> Any:
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return _copy(over)
    is_node = len(path) == 2 and path[0] == "network"
    if is_node and "kind" in over and over["kind"] != base.get("kind"):
        return _copy(over)
    merged = dict(base)  # values of `base` are fresh copies already; only keys change here
    for key, value in over.items():
        if value is None and path == ("network",):
            merged.pop(key, None)
        elif key in merged:
            merged[key] = _merge(merged[key], value, (*path, key))
        else:
            merged[key] = _copy(value)
    return merged


def _copy(data: Any) -> Any:
    """Copy plain YAML data (dicts, lists, scalars); much cheaper than deepcopy."""
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data

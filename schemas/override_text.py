"""The text of a file with settings from the command line written into it.

A run keeps a copy of its config; when ``--set``s changed it, the copy must hold the
changed values, so that it loads as what the run used without the command line.
:func:`edited_text` writes them in with ruamel.yaml's round trip, which keeps the
comments, the layout and the spelling of every value it does not touch;
:func:`flat_text` writes plain data as JSON (which is YAML), for when that cannot be
done. The caller checks that the edited text reads back as it should.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from .override import Override
from .source import PathKey


def header_comment(overrides: Sequence[Override], *, notes: Sequence[str] = ()) -> str:
    """Comment lines naming the ``--set``s written into a file (and any ``notes``).

    >>> from hamlet.schemas.override import parse_overrides
    >>> print(header_comment(parse_overrides(["run.seed=3"])), end="")
    # Settings from the command line, written into this copy:
    #   --set run.seed=3
    """
    lines = ["# Settings from the command line, written into this copy:"] if overrides else []
    lines += [f"#   --set {o.text}" for o in overrides]
    lines += [f"# {note}" for note in notes]
    return "".join(f"{line}\n" for line in lines)


def flat_text(data: Any) -> str:
    """``data`` as YAML text that reads back exactly (JSON, indented)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def edited_text(
    text: str,
    overrides: Sequence[Override],
    expected: Any,
    *,
    pins: Mapping[str, Any] | None = None,
) -> str | None:
    """``text`` with each override's value written at its path, comments and layout kept;
    ``pins`` are top-level keys written first. None when ruamel.yaml cannot do it.

    ``expected`` is the data the overrides give (for a brain, merged over its base): a
    list the text does not write but an override indexes into is copied from it whole.
    """
    try:
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = 4096  # never re-wrap a line the user wrote
        _, indent, offset = load_yaml_guess_indent(text)
        yaml.indent(mapping=2, sequence=indent or 2, offset=offset or 0)
        root = yaml.load(text)
        for position, (key, value) in enumerate((pins or {}).items()):
            root.insert(position + ("extends" in root), key, _styled(value))
        for override in overrides:
            _write(root, override.path, override.value, expected)
        out = io.StringIO()
        yaml.dump(root, out)
    except Exception:  # a nicety only: the caller falls back to flat_text, which is exact
        return None
    return out.getvalue()


def _write(root: Any, path: PathKey, value: Any, expected: Any) -> None:
    node = root
    for depth, part in enumerate(path[:-1]):
        if isinstance(part, str) and node.get(part) is None:
            if isinstance(path[depth + 1], int):  # a list only the base writes: copy it
                node[part] = _styled(_lookup(expected, path[: depth + 1]))
                return
            node[part] = CommentedMap()
        node = node[part]
    node[path[-1]] = _styled(value)


def _lookup(data: Any, path: PathKey) -> Any:
    for part in path:
        data = data[part]
    return data


def _styled(value: Any) -> Any:
    """Plain data as ruamel.yaml nodes in flow style, as a ``--set`` writes them."""
    if isinstance(value, dict):
        mapping = CommentedMap((k, _styled(v)) for k, v in value.items())
        mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        sequence = CommentedSeq(_styled(v) for v in value)
        sequence.fa.set_flow_style()
        return sequence
    return value

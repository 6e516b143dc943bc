"""The files of a config pack with settings from the command line written in: what a
run keeps as its copy of the config.

>>> from hamlet.schemas.override import parse_overrides
>>> texts = pack_texts("L1_full_observability", parse_overrides(["run.seed=7"]))
>>> sorted(texts)
['affordances.yaml', 'bars.yaml', 'brain.yaml', 'cascades.yaml', 'training.yaml']
>>> print(texts["training.yaml"].splitlines()[1])
#   --set run.seed=7
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hamlet.configs import builtin_names
from hamlet.schemas.override import Override
from hamlet.schemas.override_apply import apply_overrides
from hamlet.schemas.override_text import edited_text, flat_text, header_comment
from hamlet.schemas.pack import PACK_FILES
from hamlet.schemas.pack_loading import load_pack
from hamlet.schemas.source import load_yaml, parse_yaml

from .load import brain_document, load_brain


def pack_texts(directory: str | Path, overrides: Sequence[Override] = ()) -> dict[str, str]:
    """The text of each file of the pack in ``directory`` (a folder or a shipped pack's
    name), by file name, with ``overrides`` written in.

    Written into any folder, the texts load (``load_pack``, ``load_brain``) as the pack
    and brain with the overrides applied, without them: same values, same brain spec
    hash. A file the overrides change starts with a comment listing its ``--set``s and
    keeps its comments and layout where ruamel.yaml can keep them (else it is written
    out as plain data). brain.yaml gets its ``name`` written out when the pack's folder
    gave it, and is written out whole, merged, when it ``extends`` a file (whose
    relative path would not hold elsewhere) or when its overrides cannot be written
    into its own keys. Raises what loading with the overrides raises.
    """
    folder = load_pack(directory, overrides=overrides).directory
    texts = {}
    if (folder / "brain.yaml").is_file() or any(o.file == "brain" for o in overrides):
        texts["brain.yaml"] = _brain_text(folder / "brain.yaml", overrides)
    for kind in PACK_FILES:
        texts[f"{kind}.yaml"] = _world_text(folder / f"{kind}.yaml", kind, overrides)
    return texts


def _world_text(path: Path, kind: str, overrides: Sequence[Override]) -> str:
    doc = load_yaml(path)
    mine = [o for o in overrides if o.file == kind]
    if not mine:
        return doc.text
    apply_overrides(doc, mine, kind)
    edited = edited_text(doc.text, mine, doc.data)
    if edited is None or parse_yaml(edited).data != doc.data:
        edited = flat_text(doc.data)
    return header_comment(mine) + edited


def _brain_text(path: Path, overrides: Sequence[Override]) -> str:
    expected = load_brain(path, overrides=overrides).doc.data
    own = load_yaml(path)
    mine = [o for o in overrides if o.file == "brain"]
    base = own.data.get("extends")
    pins = {} if "name" in own.data else {"name": expected["name"]}
    notes = [f"name: written out ({expected['name']} was the folder's name)"] if pins else []
    if base is None or base in builtin_names():
        if not mine and not pins:
            return own.text
        edited = edited_text(own.text, mine, expected, pins=pins)
        if edited is not None and _reads_as(edited, path) == expected:
            return header_comment(mine, notes=notes) + edited
    flat = {key: value for key, value in expected.items() if key != "extends"}
    notes = [f"{path.name} extends {base}; merged with it here"] if base else []
    return header_comment(mine, notes=notes) + flat_text(flat)


def _reads_as(text: str, path: Path) -> Any:
    return brain_document(parse_yaml(text, str(path)), path).data

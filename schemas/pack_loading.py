"""Reading a config pack directory: each file checked against its JSON Schema, typed,
then cross-checked (:mod:`.pack_consistency`). Every problem is reported at once.

>>> from hamlet.configs import pack_dir
>>> pack = load_pack(pack_dir("L0_5_dual_resource"))
>>> [a.name for a in pack.deployed_affordances]
['Bed', 'HomeMeal', 'Hospital', 'Job']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from hamlet.configs import PACK_NAMES, pack_dir

from .errors import Diagnostic, DiagnosticSink, SpecError, did_you_mean
from .override import Override
from .override_apply import apply_overrides
from .pack import PACK_FILES, Pack
from .pack_consistency import consistency_errors
from .source import YamlDocument, load_yaml
from .validate import parse_model, validate_document


def enclosing_pack(file: str | Path) -> Path | None:
    """The config pack a file (such as a brain.yaml) sits in, if it sits in one."""
    folder = Path(file).resolve().parent
    return folder if (folder / "training.yaml").is_file() else None


def load_pack(directory: str | Path, *, overrides: Sequence[Override] = ()) -> Pack:
    """Load, validate and cross-check the config pack in ``directory`` (a folder, or the
    name of a shipped pack such as ``L1_full_observability``).

    ``overrides`` (settings from the command line, :func:`~.override.parse_overrides`)
    are written into the files' data before anything is checked; those of brain.yaml
    are left to the compiler. Every problem of every file is reported in one
    :class:`SpecError`.
    """
    if not Path(directory).is_dir() and str(directory) in PACK_NAMES:
        directory = pack_dir(str(directory))
    directory = Path(directory)
    files = ", ".join(f"{kind}.yaml" for kind in PACK_FILES)
    if not directory.is_dir():
        shipped = ", ".join(PACK_NAMES)
        guess = did_you_mean(directory.name, PACK_NAMES)
        hint = f"did you mean '{guess}'? " if guess else ""
        hint += f"give a shipped pack ({shipped}) or a directory holding {files}, "
        hint += "e.g. configs/L1_full_observability"
        raise SpecError(
            Diagnostic("E103", f"no such config pack: {directory}", hint=hint, file=str(directory))
        )
    sink = DiagnosticSink()
    docs: dict[str, YamlDocument] = {}
    models: dict[str, BaseModel] = {}
    for kind, model in PACK_FILES.items():
        path = directory / f"{kind}.yaml"
        if not path.is_file():
            sink.add(
                Diagnostic(
                    "E103",
                    f"the config pack {directory.name} has no {kind}.yaml",
                    hint=f"a config pack holds {files}: add {kind}.yaml "
                    "(a shipped pack such as configs/L1_full_observability has one to copy)",
                    file=str(path),
                )
            )
            continue
        try:
            doc = load_yaml(path)
            apply_overrides(doc, overrides, kind)
            validate_document(doc, kind)
            models[kind] = parse_model(doc, model)
            docs[kind] = doc
        except SpecError as exc:
            sink.diagnostics.extend(exc.errors)
    # Cross-file checks need all four files, so they run only when each one is valid.
    sink.raise_if_errors()
    pack = Pack(name=directory.resolve().name, directory=directory, **models)
    for diagnostic in consistency_errors(pack, docs):
        sink.add(diagnostic)
    sink.raise_if_errors()
    return pack

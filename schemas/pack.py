"""Config packs: the typed form of a level's world and run files, and their loader.

A config pack is a directory holding ``bars.yaml`` (meters), ``affordances.yaml``
(places), ``cascades.yaml`` (how meters drag each other down) and
``training.yaml`` (the environment, curriculum, exploration and run settings), plus
the ``brain.yaml`` the compiler reads. :func:`load_pack` validates the four world
and run files against their JSON Schemas, builds their typed models (defined in
``pack_world`` and ``pack_training``, re-exported here), then checks that the files
agree with each other. Every problem is reported at once.

The JSON Schemas are the contract editors see; these models give the code typed
access. Their defaults are the same (a test keeps them in sync).

>>> from hamlet.configs import pack_dir
>>> pack = load_pack(pack_dir("L0_5_dual_resource"))
>>> [a.name for a in pack.deployed_affordances]
['Bed', 'HomeMeal', 'Hospital', 'Job']
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from hamlet.configs import PACK_NAMES, pack_dir

from .errors import Diagnostic, DiagnosticSink, SpecError
from .pack_consistency import consistency_errors
from .pack_training import (
    ActionCosts,
    Curriculum,
    Environment,
    Epsilon,
    Exploration,
    Intrinsic,
    Recording,
    Rnd,
    Run,
    Stage,
    Training,
)
from .pack_world import (
    Affordance,
    Affordances,
    Bars,
    Cascade,
    Cascades,
    ConfigModel,
    Instant,
    Meter,
    MeterAmounts,
    Modulation,
    MultiTick,
    Terminal,
)
from .source import YamlDocument, load_yaml
from .validate import parse_model, validate_document

__all__ = [
    "PACK_FILES",
    "ActionCosts",
    "Affordance",
    "Affordances",
    "Bars",
    "Cascade",
    "Cascades",
    "ConfigModel",
    "Curriculum",
    "Environment",
    "Epsilon",
    "Exploration",
    "Instant",
    "Intrinsic",
    "Meter",
    "MeterAmounts",
    "Modulation",
    "MultiTick",
    "Pack",
    "Recording",
    "Rnd",
    "Run",
    "Stage",
    "Terminal",
    "Training",
    "enclosing_pack",
    "load_pack",
]


class Pack(ConfigModel):
    """A loaded, cross-checked config pack."""

    name: str
    """Name of the pack: its directory's name, e.g. ``L1_full_observability``."""
    directory: Path
    """Directory the pack was loaded from."""
    bars: Bars
    """Meters and death conditions (bars.yaml)."""
    affordances: Affordances
    """The town's places (affordances.yaml)."""
    cascades: Cascades
    """Meter interactions (cascades.yaml)."""
    training: Training
    """Environment, curriculum, exploration and run settings (training.yaml)."""

    @property
    def meter_names(self) -> tuple[str, ...]:
        """Meter names in tensor order."""
        return self.bars.names

    @property
    def affordance_names(self) -> tuple[str, ...]:
        """The affordance vocabulary, in one-hot index order (deployed or not)."""
        return tuple(a.name for a in self.affordances.affordances)

    @property
    def deployed_affordances(self) -> tuple[Affordance, ...]:
        """The affordances placed on the grid, in vocabulary order."""
        enabled = self.training.environment.enabled_affordances
        return tuple(
            a for a in self.affordances.affordances if enabled == "all" or a.name in enabled
        )


PACK_FILES: dict[str, type[BaseModel]] = {
    "bars": Bars,
    "affordances": Affordances,
    "cascades": Cascades,
    "training": Training,
}
"""The world and run files of a pack (``<kind>.yaml``) and their models."""


def enclosing_pack(file: str | Path) -> Path | None:
    """The config pack a file (such as a brain.yaml) sits in, if it sits in one."""
    folder = Path(file).resolve().parent
    return folder if (folder / "training.yaml").is_file() else None


def load_pack(directory: str | Path) -> Pack:
    """Load, validate and cross-check the config pack in ``directory`` (a folder, or the
    name of a shipped pack such as ``L1_full_observability``).

    Every problem of every file is reported in one :class:`SpecError`.
    """
    if not Path(directory).is_dir() and str(directory) in PACK_NAMES:
        directory = pack_dir(str(directory))
    directory = Path(directory)
    files = ", ".join(f"{kind}.yaml" for kind in PACK_FILES)
    if not directory.is_dir():
        raise SpecError(
            Diagnostic(
                "E103",
                f"no such config pack directory: {directory}",
                hint=f"give a directory holding {files}, e.g. configs/L1_full_observability",
                file=str(directory),
            )
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

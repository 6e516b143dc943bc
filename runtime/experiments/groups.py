"""Finding the runs a comparison names, and grouping them by what was tried.

A comparison names run directories, folders of runs (``runs/<pack>``, or ``runs`` with a
folder per pack) and sweep folders (``sweeps/<name>``, with ``manifest.json``). Runs that
differ only in their seed form one group: the same pack and the same config snapshot.
The settings only name the group, so runs that reached the same configuration two ways
pool their seeds: a ``--set`` that says what the pack says, beside runs of a pack that
ships it (the group's settings then read ``A or B``). A sweep's runs take pack, settings
and seed from its manifest; any other run from its database (``run_state``: ``pack``,
``seed`` and ``overrides``, the ``--set`` settings it ran with).

The config snapshot (``config/`` of the run directory) tells apart runs of a pack that
was edited between them, which is how a student tries a change to brain.yaml: each file
is reduced to a digest of its data (comments and layout aside, ``run.seed`` left out), and
groups of one pack with the same settings are named by the files that differ, the brain
by its spec hash (``brain sha256:6c8b0b53``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hamlet.runtime.runs import read_evaluations, read_state
from hamlet.runtime.runs.directory import PACK_FILES, RunDirectory
from hamlet.schemas.errors import Diagnostic, RunError
from hamlet.schemas.source import load_yaml

from .manifest import MANIFEST, Manifest

FINISHED = frozenset({"completed", "finished"})
"""Statuses of a run that trained to its end (a run's own, and a sweep manifest's)."""
SEED_SETTING = "run.seed"
"""The setting that is the seed: never a difference between groups."""
WHAT_TO_GIVE = (
    "give run directories (runs/<pack>/<stamp>), folders of runs (runs/<pack>) or sweep "
    "folders (sweeps/<name>, with manifest.json)"
)


@dataclass(frozen=True)
class RunRecord:
    """One run as a comparison sees it."""

    path: Path
    pack: str
    settings: dict[str, Any]
    """The settings it ran with beyond its pack's (``{}``: the pack as it is)."""
    seed: int | None
    status: str
    """``completed``, ``running``, ``interrupted`` or ``failed`` (its database's), or a
    sweep's ``queued`` for a run that has not started."""
    agents: int = 1
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    """Its ``evaluations`` rows, oldest first."""
    config: dict[str, str] | None = None
    """A digest of each file of its config snapshot (None: not started, no snapshot)."""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def final(self) -> dict[str, Any] | None:
        """Its last evaluation (None before the first)."""
        return self.evaluations[-1] if self.evaluations else None

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.sqlite"


@dataclass(frozen=True)
class RunGroup:
    """Runs of one pack with the same settings: the seeds of one thing tried."""

    id: str
    """``A``, ``B``, ...: in the order the runs were named."""
    pack: str
    settings: dict[str, Any]
    """Its first run's settings (``run.seed`` aside)."""
    runs: list[RunRecord]
    variant: str = ""
    """Where groups of this pack with these settings had different config snapshots:
    the files that differ and their digests (``brain sha256:6c8b0b53``)."""
    also: list[dict[str, Any]] = field(default_factory=list)
    """Other settings of its runs that came to the same config snapshot (a ``--set``
    of the value the pack already has, and the pack as it is)."""

    @property
    def changes(self) -> str:
        """What was tried: settings and config differences, or ``as in the pack``."""
        named = [self.settings, *self.also]
        parts = [" or ".join(map(format_settings, named))] if any(named) else []
        return "; ".join([*parts, self.variant] if self.variant else parts) or "as in the pack"

    @property
    def description(self) -> str:
        """``pack`` or ``pack key=value, ...``."""
        plain = not self.settings and not self.also and not self.variant
        return self.pack if plain else f"{self.pack} {self.changes}"

    @property
    def evaluated(self) -> list[RunRecord]:
        return [run for run in self.runs if run.final is not None]


def find_runs(paths: Sequence[str | Path]) -> list[RunRecord]:
    """Every run under ``paths``, in the order named, each once (E310 for a path that
    holds no run, E312 for a damaged database)."""
    found: dict[Path, RunRecord] = {}
    for path in map(Path, paths):
        for run in _runs_at(path):
            found.setdefault(run.path.resolve(), run)
    return list(found.values())


def group_runs(runs: Sequence[RunRecord]) -> list[RunGroup]:
    """The runs grouped by pack and config snapshot; groups in the order of their first
    run. A run not started yet (no snapshot) joins a group with a run of its pack and
    settings."""
    grouped: dict[tuple[str, str], list[int]] = {}
    settings = [_canonical(_without_seed(run.settings)) for run in runs]
    for index, run in enumerate(runs):
        if run.config is not None:
            grouped.setdefault((run.pack, _canonical(run.config)), []).append(index)
    for index, run in enumerate(runs):
        if run.config is None:
            key = next(
                (k for k, members in grouped.items()
                 if k[0] == run.pack and settings[index] in {settings[m] for m in members}),
                (run.pack, f"not started: {settings[index]}"),
            )  # fmt: skip
            grouped.setdefault(key, []).append(index)
    ordered = [sorted(members) for _, members in sorted(grouped.items(), key=lambda i: min(i[1]))]
    named = [_distinct([_without_seed(runs[m].settings) for m in members]) for members in ordered]
    packs = [runs[members[0]].pack for members in ordered]
    variants = _variants(
        [(pack, settings[members[0]]) for pack, members in zip(packs, ordered, strict=True)],
        [next((runs[m].config for m in members if runs[m].config), None) for members in ordered],
    )
    return [
        RunGroup(
            group_id(i), packs[i], named[i][0], [runs[m] for m in members], variant, named[i][1:]
        )
        for i, (members, variant) in enumerate(zip(ordered, variants, strict=True))
    ]  # fmt: skip


def group_id(index: int) -> str:
    """``A`` ... ``Z``, then ``AA``, ``AB``, ...

    >>> [group_id(i) for i in (0, 25, 26, 27)]
    ['A', 'Z', 'AA', 'AB']
    """
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def format_settings(settings: dict[str, Any]) -> str:
    """``key=value, ...`` in key order; ``as in the pack`` for none."""
    if not settings:
        return "as in the pack"
    return ", ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value)}"
        for key, value in sorted(settings.items())
    )


def config_digests(config: Path) -> dict[str, str]:
    """A digest of what each file of a config snapshot says: the sha256 of its data as
    canonical JSON (sorted keys, no spaces; for the resolved brain.yaml, its spec hash),
    training.yaml without ``run.seed`` (E100-E103 for a file that is not YAML)."""
    digests = {}
    for name in PACK_FILES:
        if not (config / name).is_file():
            continue
        data = load_yaml(config / name).data
        if name == "training.yaml" and isinstance(data.get("run"), dict):
            data["run"].pop("seed", None)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digests[name] = hashlib.sha256(text.encode()).hexdigest()
    return digests


def read_run(path: Path, **known: Any) -> RunRecord:
    """The run at ``path`` from its database; ``known`` (a sweep manifest's ``pack``,
    ``settings``, ``seed``) takes precedence over what the database says."""
    run = RunDirectory.open(path)
    state = read_state(run.metrics)
    overrides = state.get("overrides")
    return RunRecord(
        path=run.path,
        pack=known.get("pack") or state.get("pack") or run.pack_name,
        settings=known.get("settings", overrides if isinstance(overrides, dict) else {}),
        seed=known.get("seed", _whole(state.get("seed"))),
        status=str(state.get("status", "unknown")),
        agents=_whole(state.get("agents")) or 1,
        evaluations=read_evaluations(run.metrics),
        config=config_digests(run.config),
    )


def _runs_at(path: Path) -> list[RunRecord]:
    if (path / MANIFEST).is_file():
        return _sweep_runs(path)
    if (path / "config" / "brain.yaml").is_file():
        return [read_run(path)]
    inside = sorted({p.parent.parent for p in path.glob("*/config/brain.yaml")})
    inside += sorted({p.parent.parent for p in path.glob("*/*/config/brain.yaml")})
    if not inside:
        what = "does not exist" if not path.exists() else "holds no run directory"
        raise RunError(
            Diagnostic(
                "E310",
                f"{path} is not a run directory, a folder of runs or a sweep (it {what})",
                hint=WHAT_TO_GIVE,
                file=str(path),
            )
        )
    return [read_run(run) for run in inside]


def _sweep_runs(folder: Path) -> list[RunRecord]:
    """A sweep's runs as its manifest lists them; one not started yet has no database."""
    entries = Manifest.read(folder).runs
    runs = []
    for entry in entries:
        known = {
            "pack": entry["pack"],
            "settings": entry.get("settings") or {},
            "seed": _whole(entry.get("seed")),
        }
        path = folder / str(entry["run_dir"])
        if (path / "metrics.sqlite").is_file():
            runs.append(read_run(path, **known))
        else:
            runs.append(RunRecord(path=path, status=str(entry.get("status", "queued")), **known))
    return runs


def _variants(keys: list[tuple[str, str]], configs: list[dict[str, str] | None]) -> list[str]:
    """For each group, its digests of the snapshot files that vary among the groups of
    its pack and settings ("" for a group alone with them)."""
    variants = []
    for key, config in zip(keys, configs, strict=True):
        kin = [c for k, c in zip(keys, configs, strict=True) if k == key and c is not None]
        if config is None or len(kin) < 2:
            variants.append("")
            continue
        varying = [name for name in PACK_FILES if len({c.get(name) for c in kin}) > 1]
        variants.append(", ".join(_digest_label(name, config.get(name)) for name in varying))
    return variants


def _digest_label(name: str, digest: str | None) -> str:
    if digest is None:
        return f"no {name}"
    if name == "brain.yaml":
        return f"brain sha256:{digest[:8]}"
    return f"{name} {digest[:8]}"


def _distinct(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``settings`` without repeats, in order."""
    seen: dict[str, dict[str, Any]] = {}
    for each in settings:
        seen.setdefault(_canonical(each), each)
    return list(seen.values())


def _without_seed(settings: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in settings.items() if key != SEED_SETTING}


def _canonical(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, separators=(",", ":"))


def _whole(value: object) -> int | None:
    """``value`` if it is a whole number (a seed, an agent count), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None

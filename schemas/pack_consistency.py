"""Checks that the files of a config pack agree with each other (error code E140).

Each file can be valid on its own and still contradict another: an effect on a
meter that bars.yaml does not define, an enabled affordance that affordances.yaml
lacks, a WAIT that costs more energy than a move. Each diagnostic points at the
offending key or value in its own file and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from .errors import Diagnostic, suggestion
from .source import YamlDocument

if TYPE_CHECKING:
    from .pack import Pack

_AMOUNT_SECTIONS = {
    "instant": ("costs", "effects"),
    "multi_tick": ("costs_per_tick", "effects_per_tick", "completion_bonus"),
}


def consistency_errors(pack: Pack, docs: Mapping[str, YamlDocument]) -> list[Diagnostic]:
    """Every contradiction between the four files of ``pack`` (``docs`` gives places)."""
    meters = set(pack.meter_names)
    return [
        *_bars_errors(pack, docs["bars"]),
        *_cascade_errors(pack, docs["cascades"], meters),
        *_affordance_errors(pack, docs["affordances"], meters),
        *_deployment_errors(pack, docs["affordances"], docs["training"]),
        *_training_errors(pack, docs["training"], meters),
    ]


def _unknown_meter(
    doc: YamlDocument, path: Sequence[str | int], name: str, meters: Iterable[str], *, key: bool
) -> Diagnostic:
    return doc.diagnostic(
        "E140",
        f"unknown meter '{name}': bars.yaml defines no such meter",
        path,
        key=key,
        hint=suggestion(name, meters, what="meters") + " (the meters are listed in bars.yaml)",
    )


def _duplicates(
    doc: YamlDocument, names: Sequence[str], path: Sequence[str | int], what: str
) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            yield doc.diagnostic(
                "E140",
                f"duplicate {what} name '{name}'",
                [*path, i, "name"],
                hint=f"give each {what} a different name",
            )
        seen.add(name)


def _bars_errors(pack: Pack, doc: YamlDocument) -> Iterator[Diagnostic]:
    meters = pack.bars.meters
    yield from _duplicates(doc, [m.name for m in meters], ["meters"], "meter")
    for i, meter in enumerate(meters):
        if meter.index != i:
            yield doc.diagnostic(
                "E140",
                f"meter '{meter.name}' is entry {i} of the list but has index {meter.index}",
                ["meters", i, "index"],
                hint=f"write `index: {i}`: the list is in tensor order, so indices run 0..n-1",
            )
    names = [m.name for m in meters]
    for i, condition in enumerate(pack.bars.terminal):
        if condition.meter not in names:
            yield _unknown_meter(doc, ["terminal", i, "meter"], condition.meter, names, key=False)


def _cascade_errors(pack: Pack, doc: YamlDocument, meters: set[str]) -> Iterator[Diagnostic]:
    spec = pack.cascades
    yield from _duplicates(doc, [m.name for m in spec.modulations], ["modulations"], "modulation")
    yield from _duplicates(doc, [c.name for c in spec.cascades], ["cascades"], "cascade")
    for section, entries in (("modulations", spec.modulations), ("cascades", spec.cascades)):
        for i, entry in enumerate(entries):
            for end in ("source", "target"):
                name = getattr(entry, end)
                if name not in meters:
                    yield _unknown_meter(doc, [section, i, end], name, meters, key=False)
    for i, cascade in enumerate(spec.cascades):
        if cascade.category not in spec.category_order:
            yield doc.diagnostic(
                "E140",
                f"cascade '{cascade.name}' has category '{cascade.category}', "
                "which is not in category_order",
                ["cascades", i, "category"],
                hint=suggestion(cascade.category, spec.category_order, what="categories")
                + " (or add the category to category_order)",
            )


def _affordance_errors(pack: Pack, doc: YamlDocument, meters: set[str]) -> Iterator[Diagnostic]:
    affordances = pack.affordances.affordances
    yield from _duplicates(doc, [a.name for a in affordances], ["affordances"], "affordance")
    for i, affordance in enumerate(affordances):
        open_, close = affordance.hours
        if not open_ < close <= open_ + 24:
            yield doc.diagnostic(
                "E140",
                f"{affordance.name} has hours [{open_}, {close}]: "
                "it must close after it opens and at most 24 hours later",
                ["affordances", i, "hours"],
                hint="write [open, close) with open < close <= open + 24, "
                "e.g. [8, 18], or [18, 28] to close at 4:00 the next day",
            )
        for section, fields in _AMOUNT_SECTIONS.items():
            behaviour = getattr(affordance, section)
            if behaviour is None:
                continue
            for field in fields:
                for name in getattr(behaviour, field):
                    if name not in meters:
                        path = ["affordances", i, section, field, name]
                        yield _unknown_meter(doc, path, name, meters, key=True)


def _deployment_errors(
    pack: Pack, affordances_doc: YamlDocument, training_doc: YamlDocument
) -> Iterator[Diagnostic]:
    env = pack.training.environment
    vocabulary = pack.affordance_names
    if env.enabled_affordances != "all":
        for j, name in enumerate(env.enabled_affordances):
            if name not in vocabulary:
                yield training_doc.diagnostic(
                    "E140",
                    f"unknown affordance '{name}': affordances.yaml defines no such affordance",
                    ["environment", "enabled_affordances", j],
                    hint=suggestion(name, vocabulary, what="affordances"),
                )
    deployed = pack.deployed_affordances
    cells = env.grid_size**2
    if len(deployed) >= cells:
        yield training_doc.diagnostic(
            "E140",
            f"{len(deployed)} affordances do not fit on a {env.grid_size}x{env.grid_size} grid "
            "(each needs its own cell and one cell must stay free)",
            ["environment", "enabled_affordances"],
            hint=f"enable at most {cells - 1} affordances or make grid_size larger",
        )
    section, mode = ("multi_tick", "on") if env.temporal_mechanics else ("instant", "off")
    for affordance in deployed:
        if getattr(affordance, section) is None:
            i = vocabulary.index(affordance.name)
            yield affordances_doc.diagnostic(
                "E140",
                f"{affordance.name} is enabled but has no `{section}` section, "
                f"which is what it does with temporal_mechanics {mode}",
                ["affordances", i, "name"],
                hint=f"add `{section}:` to {affordance.name}, or leave it out of "
                "environment.enabled_affordances in training.yaml",
            )


def _training_errors(pack: Pack, doc: YamlDocument, meters: set[str]) -> Iterator[Diagnostic]:
    training = pack.training
    env = training.environment
    costs = env.action_costs
    for action in ("move", "wait", "interact"):
        for name in getattr(costs, action):
            if name not in meters:
                path = ["environment", "action_costs", action, name]
                yield _unknown_meter(doc, path, name, meters, key=True)
    if "energy" in meters:
        wait, move = costs.wait.get("energy", 0.0), costs.move.get("energy", 0.0)
        if wait >= move:
            yield doc.diagnostic(
                "E140",
                f"WAIT costs {wait} energy, which is not less than a move's {move}",
                ["environment", "action_costs", "wait", "energy"],
                hint="make action_costs.wait.energy smaller than action_costs.move.energy "
                "(standing still must be cheaper than walking)",
            )
    if env.observability == "partial" and env.vision_range > env.grid_size - 1:
        width = 2 * env.vision_range + 1
        yield doc.diagnostic(
            "E140",
            f"vision_range {env.vision_range} gives a {width}x{width} window, but a range of "
            f"{env.grid_size - 1} already shows the whole {env.grid_size}x{env.grid_size} grid "
            "from any cell",
            ["environment", "vision_range"],
            hint=f"use a vision_range of at most {env.grid_size - 1}",
        )
    yield from _curriculum_errors(pack, doc)
    exploration = training.exploration
    if exploration.epsilon.min > exploration.epsilon.start:
        yield doc.diagnostic(
            "E140",
            f"epsilon min {exploration.epsilon.min} is above its start {exploration.epsilon.start}",
            ["exploration", "epsilon", "min"],
            hint="make exploration.epsilon.min at most exploration.epsilon.start",
        )
    epsilon = exploration.epsilon
    if epsilon.fraction is not None and epsilon.decay is not None:
        yield doc.diagnostic(
            "E140",
            f"epsilon has both a fraction ({epsilon.fraction}, over the run's budget) and a "
            f"decay ({epsilon.decay}, per episode); they are two different schedules",
            ["exploration", "epsilon", "decay"],
            hint="keep one: remove decay (or --set exploration.epsilon.decay=null), or "
            "remove fraction (--set exploration.epsilon.fraction=null)",
        )
    intrinsic = exploration.intrinsic
    if intrinsic.min_weight > intrinsic.initial_weight:
        yield doc.diagnostic(
            "E140",
            f"intrinsic min_weight {intrinsic.min_weight} is above its initial_weight "
            f"{intrinsic.initial_weight}",
            ["exploration", "intrinsic", "min_weight"],
            hint="make exploration.intrinsic.min_weight at most initial_weight",
        )


def _curriculum_errors(pack: Pack, doc: YamlDocument) -> Iterator[Diagnostic]:
    curriculum = pack.training.curriculum
    if curriculum.retreat_survival >= curriculum.advance_survival:
        yield doc.diagnostic(
            "E140",
            f"retreat_survival {curriculum.retreat_survival} is not below advance_survival "
            f"{curriculum.advance_survival}",
            ["curriculum", "retreat_survival"],
            hint="make curriculum.retreat_survival smaller than advance_survival",
        )
    if curriculum.initial_stage > len(curriculum.stages):
        yield doc.diagnostic(
            "E140",
            f"initial_stage {curriculum.initial_stage} does not exist: "
            f"there are {len(curriculum.stages)} stages",
            ["curriculum", "initial_stage"],
            hint=f"use a stage number from 1 to {len(curriculum.stages)}",
        )
    yield from _duplicates(
        doc, [s.name for s in curriculum.stages], ["curriculum", "stages"], "stage"
    )

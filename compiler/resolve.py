"""Resolve every size: walk the graph in order, propagating shapes from the observation.

The result is the *resolved spec*: every default written out, every ``auto``
filled in, nodes that do not feed the head dropped, and the observation layout
included, so that it alone rebuilds the same module. Its hash identifies the whole
resolved spec (network, observation layout, learning settings, name and
description): ``sha256:`` + hex digest of its canonical JSON (sorted keys, no
spaces). How the YAML was written (comments, key order, style) never changes it.

Resolving also estimates the memory that training the brain needs, from the sizes
alone (:mod:`.memory`), and refuses a brain over the limit (E134) before anything is
allocated.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from hamlet.schemas.errors import Diagnostic, DiagnosticSink, SpecError, suggestion
from hamlet.schemas.layout import ObservationLayout
from hamlet.schemas.source import YamlDocument

from .graph import OBS, BrainGraph, build_graph
from .kinds import KINDS, NodeInput, NodeSpec, Problem, QHeadSpec, Shape
from .kinds.q_head import QHead
from .load import BrainSource
from .memory import DEFAULT_MAX_MEMORY, Batch, Part, observation_parts, over_limit, parameters
from .spec import BrainSpec


@dataclass(frozen=True)
class ResolvedNode:
    """A node with all sizes known."""

    name: str
    spec: NodeSpec
    inputs: tuple[NodeInput, ...]
    output: Shape

    @property
    def kind(self) -> str:
        return self.spec.kind  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ResolvedBrain:
    """A brain ready to be emitted: typed resolved spec, layout, nodes in order."""

    spec: BrainSpec
    layout: ObservationLayout
    nodes: tuple[ResolvedNode, ...]
    """Nodes that feed the head, in topological order; the head is last."""
    recurrent: ResolvedNode | None
    warnings: tuple[Diagnostic, ...]

    @property
    def head(self) -> ResolvedNode:
        return self.nodes[-1]

    @property
    def head_spec(self) -> QHeadSpec:
        return self.head.spec  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        """The resolved spec as JSON-ready data (what ``resolved.json`` holds)."""
        return resolved_dict(self.spec, self.layout)

    @property
    def spec_hash(self) -> str:
        return spec_hash(self.to_dict())


def spec_hash(resolved: dict[str, Any]) -> str:
    """``sha256:`` + hex digest of the canonical JSON of a resolved spec."""
    canonical = json.dumps(resolved, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def resolved_dict(spec: BrainSpec, layout: ObservationLayout) -> dict[str, Any]:
    data = spec.model_dump(mode="json", exclude={"extends"})
    data["observation"] = layout.to_dict()
    return data


def resolve_brain(
    source: BrainSource,
    layout: ObservationLayout | None = None,
    *,
    max_memory: int = DEFAULT_MAX_MEMORY,
) -> ResolvedBrain:
    """Resolve all sizes of ``source`` against ``layout`` (the world's), or against the
    brain's own ``observation`` section when no world is given.

    A brain whose training would need more than ``max_memory`` bytes (estimated; see
    :mod:`hamlet.compiler.memory`) is refused with E134.
    """
    graph = build_graph(source.doc, source.spec)
    return _Resolver(source.doc, source.spec, graph, layout, max_memory).run()


class _Resolver:
    def __init__(
        self,
        doc: YamlDocument,
        spec: BrainSpec,
        graph: BrainGraph,
        world: ObservationLayout | None,
        max_memory: int,
    ) -> None:
        self.doc, self.spec, self.graph = doc, spec, graph
        self.max_memory = max_memory
        self.batch = Batch(spec.learning, recurrent=graph.recurrent is not None)
        self.sink = DiagnosticSink(list(graph.warnings))
        self.layout, self.actions = self._layout(world)

    def run(self) -> ResolvedBrain:
        outputs: dict[str, Shape] = {}
        nodes: list[ResolvedNode] = []
        for name in self.graph.used:
            node = self.spec.network[name]
            inputs = [
                self._input(name, node, i, ref, outputs) for i, ref in enumerate(node.references())
            ]
            if any(i is None for i in inputs):
                continue  # an input is broken; its error is already reported
            ready = [i for i in inputs if i is not None]
            try:
                kind = KINDS[node.kind]
                if isinstance(kind, QHead):
                    resolved, shape = kind.infer_head(name, node, ready, self.actions)
                else:
                    resolved, shape = kind.infer(name, node, ready)
            except Problem as problem:
                self.sink.add(
                    self.doc.diagnostic(
                        problem.code,
                        problem.message,
                        ("network", name, problem.field or "kind"),
                        hint=problem.hint,
                    )
                )
                continue
            outputs[name] = shape
            nodes.append(ResolvedNode(name, resolved, tuple(ready), shape))
        self.sink.raise_if_errors()
        assert self.layout is not None  # every node reached obs, so a layout exists
        recurrent = next((n for n in nodes if n.name == self.graph.recurrent), None)
        # The memory check comes before the layout is rebuilt with the head's action
        # count: the layout names every action.
        self._check_memory(self._memory(nodes, recurrent))
        layout = self.layout
        if self.actions is None:
            layout = ObservationLayout.from_shapes(
                [(f.name, f.shape) for f in layout.fields],
                int(nodes[-1].spec.actions),  # type: ignore[attr-defined]
            )
        network = {n.name: n.spec for n in nodes}
        spec = self.spec.model_copy(update={"network": network})
        return ResolvedBrain(spec, layout, tuple(nodes), recurrent, tuple(self.sink.warnings))

    def _memory(self, nodes: list[ResolvedNode], recurrent: ResolvedNode | None) -> list[Part]:
        """Everything training holds: replay, observations, and each node's share."""
        assert self.layout is not None
        state = 0
        if recurrent is not None:
            memory = recurrent.spec
            state = memory.num_layers * memory.hidden_size  # type: ignore[attr-defined]
        head = nodes[-1]
        if self.actions is None:  # the head says how many actions there are
            actions = (int(head.spec.actions), ("network", head.name, "actions"))  # type: ignore[attr-defined]
        else:
            actions = (self.actions, self._actions_path())
        parts = observation_parts(
            self.batch,
            self._field_sizes([f.shape for f in self.layout.fields]),
            actions,
            recurrent_state=state,
        )
        for node in nodes:
            costs = KINDS[node.kind].cost(node.spec, list(node.inputs))
            where = ("network", node.name)
            heaviest = max(costs, key=lambda c: c.params)
            busiest = max(costs, key=lambda c: c.values)
            parts.append(
                parameters(
                    f"node '{node.name}'", sum(c.params for c in costs), (*where, *heaviest.field)
                )
            )
            parts.append(
                self.batch.activations(
                    f"node '{node.name}'", sum(c.values for c in costs), (*where, *busiest.field)
                )
            )
        return parts

    def _field_sizes(self, shapes: list[tuple[int, ...]]) -> list[tuple[int, Any]]:
        """Each observation field's size, with where it is written (the brain's
        ``observation.fields``, or nowhere in the brain when the world gives them)."""
        declared = self.spec.observation.fields is not None
        return [
            (
                math.prod(shape),
                ("observation", "fields", i, "shape") if declared else ("observation",),
            )
            for i, shape in enumerate(shapes)
        ]

    def _actions_path(self) -> tuple[str, ...]:
        return (
            ("observation", "actions")
            if self.spec.observation.actions != "auto"
            else ("observation",)
        )

    def _check_memory(self, parts: list[Part]) -> None:
        overrun = over_limit(parts, self.max_memory)
        if overrun is not None:
            raise SpecError(
                self.doc.diagnostic("E134", overrun.message, overrun.path, hint=overrun.hint)
            )

    def _layout(
        self, world: ObservationLayout | None
    ) -> tuple[ObservationLayout | None, int | None]:
        declared = self.spec.observation
        if world is None:
            if declared.fields is None:
                return None, _action_count(declared.actions)
            shapes = [(f.name, f.shape) for f in declared.fields]
            actions = declared.actions
            # Before the layout is built: it names every action, and a typo such as
            # `actions: 1000000000` must not build a billion names first.
            self._check_memory(
                observation_parts(
                    self.batch,
                    self._field_sizes([tuple(shape) for _, shape in shapes]),
                    (_action_count(actions) or 0, self._actions_path()),
                )
            )
            layout = ObservationLayout.from_shapes(shapes, actions if actions != "auto" else 0)
            return layout, _action_count(actions)
        if declared.fields is not None:
            mine = [(f.name, tuple(f.shape)) for f in declared.fields]
            theirs = [(f.name, f.shape) for f in world.fields]
            if mine != theirs:
                self.sink.add(
                    self.doc.diagnostic(
                        "E130",
                        f"the brain's observation fields {_fields(mine)} differ from the "
                        f"world's {_fields(theirs)}",
                        ("observation", "fields"),
                        hint="delete the brain's `observation.fields` to take the world's",
                    )
                )
        count = _action_count(declared.actions)
        if count is not None and count != world.num_actions:
            self.sink.add(
                self.doc.diagnostic(
                    "E130",
                    f"the brain declares {count} actions, but the world has {world.num_actions}",
                    ("observation", "actions"),
                    hint="set `actions: auto` to take the world's",
                )
            )
        return world, world.num_actions

    def _input(
        self, name: str, node: Any, index: int, ref: str, outputs: dict[str, Shape]
    ) -> NodeInput | None:
        where = (
            ("network", name, "inputs", index)
            if node.kind == "concat"
            else ("network", name, "input")
        )
        if ref in self.spec.network:
            if ref not in outputs:
                return None
            kind = self.spec.network[ref].kind
            return NodeInput(ref, outputs[ref], f"node '{ref}' ({kind})", ref)
        if self.layout is None:
            self.sink.add(
                self.doc.diagnostic(
                    "E132",
                    f"cannot infer the sizes of node '{name}': it reads '{ref}', "
                    "but no world gives the observation layout",
                    where,
                    hint="compile inside a config pack, pass --world PACK (or --obs NAME=SHAPE "
                    "... --actions N), or add an `observation:` section",
                )
            )
            return None
        if ref == OBS:
            return NodeInput(ref, (self.layout.obs_dim,), "the observation `obs`", "obs")
        field_name = ref.split(".", 1)[1]
        if field_name not in self.layout.names:
            self.sink.add(
                self.doc.diagnostic(
                    "E131",
                    f"node '{name}' reads '{ref}', but the observation has no field '{field_name}'",
                    where,
                    hint=suggestion(field_name, self.layout.names, what="fields"),
                )
            )
            return None
        field = self.layout.field(field_name)
        expr = f"obs[:, {field.offset}:{field.end}]"
        return NodeInput(ref, field.shape, f"observation field '{ref}'", expr)


def _action_count(actions: int | list[str] | str) -> int | None:
    if isinstance(actions, list):
        return len(actions)
    return None if actions == "auto" else int(actions)


def _fields(fields: list[tuple[str, tuple[int, ...]]]) -> str:
    return ", ".join(f"{name} {list(shape)}" for name, shape in fields)

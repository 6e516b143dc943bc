"""Wire the nodes into a graph and check its structure.

Every node reads from observation fields or other nodes. This stage finds
references to nothing, cycles, the one Q-head, at most one recurrent node, and
nodes that do not feed the head (a warning: they are left out of the module).
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field

import networkx as nx

from hamlet.schemas.errors import Diagnostic, DiagnosticSink, suggestion
from hamlet.schemas.source import YamlDocument

from .kinds import KINDS
from .spec import BrainSpec

OBS = "obs"

# Names the generated module uses for itself: a node called `forward` or `h` would
# overwrite a method or a local variable of the generated code.
_GENERATED_NAMES = frozenset(
    "obs h c x batch time self torch nn tensor noise generator probs value advantage "
    "forward forward_sequence trunk q_logits initial_state lstm_step gru_step "
    "spec_hash obs_dim num_actions recurrent head_name noisy distributional hidden_size num_layers "
    "support logits".split()
)
# Attributes of torch.nn.Module (kept in sync with torch by a test; the spec layer
# must not import torch to learn them).
MODULE_ATTRIBUTES = frozenset(
    "add_module apply bfloat16 buffers call_super_init children compile cpu cuda double "
    "dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter "
    "get_submodule half ipu load_state_dict modules mtia named_buffers named_children "
    "named_modules named_parameters parameters register_backward_hook register_buffer "
    "register_forward_hook register_forward_pre_hook register_full_backward_hook "
    "register_full_backward_pre_hook register_load_state_dict_post_hook "
    "register_load_state_dict_pre_hook register_module register_parameter "
    "register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ "
    "set_extra_state set_submodule share_memory state_dict to to_empty train training type "
    "xpu zero_grad".split()
)
RESERVED_NAMES = _GENERATED_NAMES | MODULE_ATTRIBUTES | frozenset(keyword.kwlist)


@dataclass
class BrainGraph:
    """The checked structure of a brain's network."""

    graph: nx.DiGraph
    """Edges run from what is read (a node or ``obs``/``obs.<field>``) to the reader."""
    head: str
    used: list[str]
    """Nodes that feed the head (the head included), in a canonical topological order."""
    recurrent: str | None
    warnings: list[Diagnostic] = field(default_factory=list)


def is_observation(ref: str) -> bool:
    return ref == OBS or ref.startswith(OBS + ".")


def build_graph(doc: YamlDocument, spec: BrainSpec) -> BrainGraph:
    """Check the network's wiring; raise :class:`SpecError` listing every problem."""
    sink = DiagnosticSink()
    graph = nx.DiGraph()
    names = list(spec.network)
    graph.add_nodes_from(names)
    for name in names:
        if name in RESERVED_NAMES:
            sink.add(
                doc.diagnostic(
                    "E127",
                    f"'{name}' cannot name a node: the generated module uses it",
                    ("network", name),
                    key=True,
                    hint=f"rename the node, e.g. '{name}_node'",
                )
            )
    for name, node in spec.network.items():
        for index, ref in enumerate(node.references()):
            where = (
                ("network", name, "input")
                if node.kind != "concat"
                else ("network", name, "inputs", index)
            )
            if is_observation(ref) or ref in spec.network:
                graph.add_edge(ref, name, where=where)
                continue
            sink.add(
                doc.diagnostic(
                    "E121",
                    f"node '{name}' reads '{ref}', which is neither a node nor `obs`",
                    where,
                    hint=suggestion(ref, [*names, OBS], what="inputs")
                    + " (observation fields are written `obs.<field>`)",
                )
            )
    _check_cycles(doc, graph, sink)
    heads = [n for n, node in spec.network.items() if node.kind == "q_head"]
    if len(heads) != 1:
        _head_count(doc, heads, sink)
    sink.raise_if_errors()

    head = heads[0]
    used = [head, *nx.ancestors(graph, head)]
    order = [n for n in nx.lexicographical_topological_sort(graph) if n in used and n in names]
    recurrent = [n for n in order if KINDS[spec.network[n].kind].recurrent]
    if len(recurrent) > 1:
        for extra in recurrent[1:]:
            sink.add(
                doc.diagnostic(
                    "E125",
                    f"node '{extra}' is a second recurrent node (after '{recurrent[0]}'); "
                    "a brain carries one hidden state",
                    ("network", extra, "kind"),
                    hint="use one lstm/gru node (stack layers with `num_layers`)",
                )
            )
    sink.raise_if_errors()
    warnings = [
        doc.diagnostic(
            "E123",
            f"node '{name}' does not feed the Q-head '{head}'; it is left out of the module",
            ("network", name),
            key=True,
            hint="use it as an input on the way to the head, or delete it",
            severity="warning",
        )
        for name in names
        if name not in used
    ]
    return BrainGraph(graph, head, order, recurrent[0] if recurrent else None, warnings)


def _check_cycles(doc: YamlDocument, graph: nx.DiGraph, sink: DiagnosticSink) -> None:
    seen: set[frozenset[str]] = set()
    for cycle in nx.simple_cycles(graph):
        members = frozenset(cycle)
        if members in seen:
            continue
        seen.add(members)
        start = min(cycle)  # report from a canonical node so the message is stable
        at = cycle.index(start)
        ordered = cycle[at:] + cycle[:at]
        path = " -> ".join([*ordered, start])
        reader = ordered[1] if len(ordered) > 1 else start
        where = graph.edges[start, reader]["where"]
        sink.add(
            doc.diagnostic(
                "E122",
                f"the inputs form a cycle: {path}",
                where,
                hint="a node cannot depend on its own output; break the loop "
                "(recurrence belongs in an lstm/gru node)",
            )
        )
        if len(seen) >= 5:
            return


def _head_count(doc: YamlDocument, heads: list[str], sink: DiagnosticSink) -> None:
    if not heads:
        sink.add(
            doc.diagnostic(
                "E124",
                "the network has no q_head node, so nothing produces Q-values",
                ("network",),
                key=True,
                hint="add a node with `kind: q_head` that reads your last node",
            )
        )
    for extra in heads[1:]:
        sink.add(
            doc.diagnostic(
                "E124",
                f"node '{extra}' is a second q_head (after '{heads[0]}'); a brain has one",
                ("network", extra, "kind"),
                hint="keep one q_head and make the other node an mlp",
            )
        )

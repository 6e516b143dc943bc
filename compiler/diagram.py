"""Draw a brain's graph as Mermaid (the default) or Graphviz DOT text."""

from __future__ import annotations

from .graph import is_observation
from .resolve import ResolvedBrain


def _edges(brain: ResolvedBrain) -> list[tuple[str, str]]:
    return [(i.ref, node.name) for node in brain.nodes for i in node.inputs]


def _sources(brain: ResolvedBrain) -> dict[str, str]:
    """Observation inputs the network reads, with their shapes."""
    shapes: dict[str, str] = {}
    for node in brain.nodes:
        for i in node.inputs:
            if is_observation(i.ref):
                shapes[i.ref] = str(list(i.shape))
    return shapes


def mermaid(brain: ResolvedBrain) -> str:
    """A Mermaid flowchart: observation fields at the top, the Q-head at the bottom."""

    def ident(ref: str) -> str:
        return ref.replace(".", "_")

    lines = ["flowchart TD"]
    for ref, shape in _sources(brain).items():
        lines.append(f'    {ident(ref)}[/"{ref} {shape}"/]')
    for node in brain.nodes:
        label = f"{node.name}<br/>{node.kind} → {list(node.output)}"
        lines.append(f'    {ident(node.name)}["{label}"]')
    for src, dst in _edges(brain):
        lines.append(f"    {ident(src)} --> {ident(dst)}")
    return "\n".join(lines) + "\n"


def dot(brain: ResolvedBrain) -> str:
    """A Graphviz digraph of the same picture."""
    lines = [f'digraph "{brain.spec.name}" {{', "    rankdir=TB;", "    node [shape=box];"]
    for ref, shape in _sources(brain).items():
        lines.append(f'    "{ref}" [shape=ellipse, label="{ref}\\n{shape}"];')
    for node in brain.nodes:
        lines.append(
            f'    "{node.name}" [label="{node.name}\\n{node.kind} → {list(node.output)}"];'
        )
    for src, dst in _edges(brain):
        lines.append(f'    "{src}" -> "{dst}";')
    lines.append("}")
    return "\n".join(lines) + "\n"

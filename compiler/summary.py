"""What a brain became: the per-node table ``hamletc compile`` prints, and its JSON form."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .pipeline import CompiledBrain

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class NodeRow:
    """One line of the summary table."""

    node: str
    kind: str
    input: str
    input_shape: str
    output_shape: str
    params: int


def summarize(brain: CompiledBrain, module: torch.nn.Module) -> list[NodeRow]:
    """A row per node, in the order the module computes them."""
    rows = []
    for node in brain.resolved.nodes:
        sub = getattr(module, node.name, None)
        params = sum(p.numel() for p in sub.parameters()) if sub is not None else 0
        refs = ", ".join(i.ref for i in node.inputs)
        if len(refs) > 32:  # a wide concat: name the first input, count the rest
            refs = f"{node.inputs[0].ref} +{len(node.inputs) - 1} more"
        rows.append(
            NodeRow(
                node.name,
                node.kind,
                refs,
                _input_shape(node.kind, node.inputs),
                str(list(node.output)),
                params,
            )
        )
    return rows


def _input_shape(kind: str, inputs: Any) -> str:
    if kind == "conv":
        shape = inputs[0].shape
        return str(list(shape) if len(shape) == 3 else [1, *shape])
    return "+".join(f"[{i.size}]" for i in inputs)


def format_table(brain: CompiledBrain, rows: list[NodeRow], *, world: str | None = None) -> str:
    """The summary as aligned text: a header line, the nodes, and the total."""
    layout = brain.layout
    source = f" (world {world})" if world else ""
    header = (
        f"brain {brain.resolved.spec.name}{source}: obs {layout.obs_dim} -> "
        f"{layout.num_actions} actions, {brain.spec_hash[:19]}..."
    )
    table = [("node", "kind", "input", "input shape", "output shape", "params")]
    table += [
        (r.node, r.kind, r.input, r.input_shape, r.output_shape, f"{r.params:,}") for r in rows
    ]
    table.append(("total", "", "", "", "", f"{sum(r.params for r in rows):,}"))
    widths = [max(len(line[i]) for line in table) for i in range(6)]

    def line(cells: tuple[str, ...]) -> str:
        text = "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths, strict=False))
        return f"{text}  {cells[-1].rjust(widths[-1])}"

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([header, line(table[0]), rule, *map(line, table[1:-1]), rule, line(table[-1])])


def summary_json(brain: CompiledBrain, rows: list[NodeRow]) -> dict[str, Any]:
    """The summary as JSON-ready data (``hamletc compile --json``)."""
    return {
        "name": brain.resolved.spec.name,
        "spec_hash": brain.spec_hash,
        "obs_dim": brain.layout.obs_dim,
        "num_actions": brain.layout.num_actions,
        "recurrent": brain.resolved.recurrent.kind if brain.resolved.recurrent else None,
        "nodes": [asdict(r) for r in rows],
        "total_params": sum(r.params for r in rows),
        "warnings": [str(w) for w in brain.warnings],
    }

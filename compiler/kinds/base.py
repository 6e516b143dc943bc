"""What every node kind provides: a typed spec, shape inference and code emission.

A kind never imports torch: it *writes* PyTorch source. The emitted module is
instantiated later by :mod:`hamlet.compiler.emit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

Shape = tuple[int, ...]
KeyPath = tuple[str | int, ...]
"""A key of a node, as a path below it: ``("hidden", 0)``, ``("distributional", "atoms")``."""
INDENT = "    "
LINE_LENGTH = 100
"""Generated code is laid out as ruff/black would lay it out at this line length."""
BODY_WIDTH = 92
"""Characters available to a line of a method body (100 minus 8 of indentation)."""
Auto = Literal["auto"]
Activation = Literal["relu", "tanh", "gelu", "silu", "elu", "leaky_relu"]

ACTIVATION_MODULES: dict[str, str] = {
    "relu": "nn.ReLU()",
    "tanh": "nn.Tanh()",
    "gelu": "nn.GELU()",
    "silu": "nn.SiLU()",
    "elu": "nn.ELU()",
    "leaky_relu": "nn.LeakyReLU()",
}
ACTIVATION_FUNCTIONS: dict[str, str] = {
    "relu": "torch.relu",
    "tanh": "torch.tanh",
    "gelu": "nn.functional.gelu",
    "silu": "nn.functional.silu",
    "elu": "nn.functional.elu",
    "leaky_relu": "nn.functional.leaky_relu",
}


class NodeSpec(BaseModel):
    """Common base of the typed node specs: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def references(self) -> list[str]:
        """Names this node reads from (nodes or ``obs``/``obs.<field>``)."""
        return [self.input]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NodeInput:
    """What arrives at one input of a node."""

    ref: str
    """As written in the spec: ``obs``, ``obs.grid`` or a node name."""
    shape: Shape
    producer: str
    """Human description for messages, e.g. ``node 'features' (concat)``."""
    expr: str
    """Python expression of the value in the generated code, flattened to [N, size]."""

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Cost:
    """What one layer of a node holds when it trains, for the memory estimate (E134)."""

    params: int
    """Parameters (exact: the generated module has this many)."""
    values: int
    """Activations per sample and time step that the backward pass needs (an estimate)."""
    field: KeyPath
    """The node's key whose size makes this layer large (where an E134 error points)."""


class Problem(Exception):
    """A kind's objection to its inputs or settings; the resolver places it in the file."""

    def __init__(
        self, code: str, message: str, field: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.hint = code, message, field, hint


def settle(node_name: str, declared: int | str, inferred: int, what: str, source: NodeInput) -> int:
    """An ``auto`` size becomes ``inferred``; an explicit one must equal it."""
    if declared == "auto" or declared == inferred:
        return inferred
    raise Problem(
        "E130",
        f"node '{node_name}' declares {what}: {declared}, "
        f"but its input {source.producer} produces {inferred}",
        field=what,
        hint=f"set `{what}: auto` (or {inferred}), or change {source.producer}",
    )


class Kind:
    """One node kind. Subclasses set ``name`` and ``spec`` and implement the methods."""

    name: ClassVar[str]
    spec: ClassVar[type[NodeSpec]]
    recurrent: ClassVar[bool] = False

    def infer(self, name: str, node: Any, inputs: list[NodeInput]) -> tuple[Any, Shape]:
        """Fill in every ``auto`` of ``node`` and return it with its output shape."""
        raise NotImplementedError

    def constructor(self, node: Any, inputs: list[NodeInput]) -> str:
        """Source of the expression that builds the node's submodule ('' if none)."""
        return ""

    def forward(self, name: str, node: Any, inputs: list[NodeInput]) -> list[str]:
        """Source lines that compute local variable ``name`` from the inputs."""
        return [f"{name} = self.{name}({inputs[0].expr})"]

    def cost(self, node: Any, inputs: list[NodeInput]) -> list[Cost]:
        """What each layer of the (resolved) node holds, computed from sizes alone."""
        raise NotImplementedError


def sequential(items: list[str]) -> str:
    """``nn.Sequential(...)`` source, one layer per line when there are several."""
    if len(items) <= 2 and sum(len(i) for i in items) < 60:
        return f"nn.Sequential({', '.join(items)})"
    body = "".join(f"    {item},\n" for item in items)
    return f"nn.Sequential(\n{body})"


def linear_stack(
    in_features: int, hidden: list[int], activation: str, layer_norm: bool
) -> list[str]:
    """Layers of an MLP: Linear, optional LayerNorm, activation, for each width."""
    items: list[str] = []
    width = in_features
    for out in hidden:
        items.append(f"nn.Linear({width}, {out})")
        if layer_norm:
            items.append(f"nn.LayerNorm({out})")
        items.append(ACTIVATION_MODULES[activation])
        width = out
    return items


def linear_stack_cost(
    in_features: int,
    source: KeyPath,
    layers: list[tuple[int, KeyPath]],
    layer_norm: bool,
    *,
    noisy: bool = False,
) -> list[Cost]:
    """Costs of :func:`linear_stack` (or of noisy layers, which hold twice the
    parameters). ``source`` is the key that sets ``in_features``, and ``layers`` gives
    each layer's width with the key that sets it; a layer is blamed on the larger of its
    two widths."""
    costs: list[Cost] = []
    width, field = in_features, source
    for out, own in layers:
        params = (width * out + out) * (2 if noisy else 1) + (2 * out if layer_norm else 0)
        values = out * (3 if layer_norm else 2)  # the Linear's output, the norm's, the activation's
        costs.append(Cost(params, values, field if width > out else own))
        width, field = out, own
    return costs


def signature(name: str, params: str, returns: str) -> list[str]:
    """A method signature laid out as ruff/black would: one line if it fits."""
    line = f"    def {name}({params}) -> {returns}:"
    if len(line) <= LINE_LENGTH:
        return [line]
    if len(INDENT * 2 + params) <= LINE_LENGTH:
        return [f"    def {name}(", f"        {params}", f"    ) -> {returns}:"]
    return [
        f"    def {name}(",
        *(f"        {p.strip()}," for p in params.split(", ")),
        f"    ) -> {returns}:",
    ]


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap (for docstrings of generated code)."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return out

"""The feed-forward building blocks: ``mlp``, ``conv``, ``concat`` and ``layer_norm``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import (
    ACTIVATION_MODULES,
    BODY_WIDTH,
    Activation,
    Auto,
    Cost,
    Kind,
    NodeInput,
    NodeSpec,
    Problem,
    Shape,
    linear_stack,
    linear_stack_cost,
    sequential,
    settle,
)


class MlpSpec(NodeSpec):
    """A stack of Linear layers, each with optional LayerNorm and an activation."""

    kind: Literal["mlp"]
    input: str
    hidden: list[int] = Field(min_length=1)
    """Sizes of the hidden layers."""
    activation: Activation = "relu"
    layer_norm: bool = False
    """Put a LayerNorm after each Linear layer."""
    input_size: int | Auto = "auto"


class Mlp(Kind):
    name = "mlp"
    spec = MlpSpec

    def infer(self, name: str, node: MlpSpec, inputs: list[NodeInput]) -> tuple[MlpSpec, Shape]:
        size = settle(name, node.input_size, inputs[0].size, "input_size", inputs[0])
        return node.model_copy(update={"input_size": size}), (node.hidden[-1],)

    def constructor(self, node: MlpSpec, inputs: list[NodeInput]) -> str:
        return sequential(
            linear_stack(int(node.input_size), node.hidden, node.activation, node.layer_norm)
        )

    def cost(self, node: MlpSpec, inputs: list[NodeInput]) -> list[Cost]:
        layers = [(size, ("hidden", i)) for i, size in enumerate(node.hidden)]
        return linear_stack_cost(int(node.input_size), ("input",), layers, node.layer_norm)


class ProjectionSpec(NodeSpec):
    """The Linear layer after a conv stack."""

    features: int = Field(ge=1)
    layer_norm: bool = False
    activation: Activation = "relu"


class ConvSpec(NodeSpec):
    """2-D convolutions over a grid, flattened, with an optional projection."""

    kind: Literal["conv"]
    input: str
    channels: list[int] = Field(min_length=1)
    """Output channels of each convolution."""
    kernel_size: int = Field(default=3, ge=1)
    stride: int = Field(default=1, ge=1)
    padding: int = Field(default=1, ge=0)
    activation: Activation = "relu"
    in_channels: int | Auto = "auto"
    projection: ProjectionSpec | Literal[False] = False


class Conv(Kind):
    name = "conv"
    spec = ConvSpec

    def infer(self, name: str, node: ConvSpec, inputs: list[NodeInput]) -> tuple[ConvSpec, Shape]:
        source = inputs[0]
        grid = _grid_shape(source)
        channels = settle(name, node.in_channels, grid[0], "in_channels", source)
        flat = _flat_size(name, node, grid)
        out = node.projection.features if node.projection else flat
        return node.model_copy(update={"in_channels": channels}), (out,)

    def constructor(self, node: ConvSpec, inputs: list[NodeInput]) -> str:
        items, width = [], int(node.in_channels)
        for out in node.channels:
            items.append(
                f"nn.Conv2d({width}, {out}, kernel_size={node.kernel_size}, "
                f"stride={node.stride}, padding={node.padding})"
            )
            items.append(ACTIVATION_MODULES[node.activation])
            width = out
        items.append("nn.Flatten()")
        if node.projection:
            flat = _flat_size("", node, _grid_shape(inputs[0]))
            projection = node.projection
            items += linear_stack(
                flat, [projection.features], projection.activation, projection.layer_norm
            )
        return sequential(items)

    def forward(self, name: str, node: ConvSpec, inputs: list[NodeInput]) -> list[str]:
        channels, height, width = _grid_shape(inputs[0])
        grid = f"{inputs[0].expr}.reshape(-1, {channels}, {height}, {width})"
        return [f"{name} = self.{name}({grid})"]

    def cost(self, node: ConvSpec, inputs: list[NodeInput]) -> list[Cost]:
        channels, height, width = _grid_shape(inputs[0])
        cells_in, field = height * width, ("input",)
        costs = []
        for index, out in enumerate(node.channels):
            height = (height + 2 * node.padding - node.kernel_size) // node.stride + 1
            width = (width + 2 * node.padding - node.kernel_size) // node.stride + 1
            cells = height * width
            # Blame the largest factor: the channels, the input's channels, the kernel,
            # or the feature map (which only padding can make larger than the input).
            spatial = ("padding",) if cells > cells_in else ("input",)
            factors = {
                ("channels", index): out,
                field: channels,
                ("kernel_size",): node.kernel_size**2,
                spatial: cells,
            }
            params = channels * out * node.kernel_size**2 + out
            costs.append(Cost(params, 2 * out * cells, max(factors, key=factors.__getitem__)))
            channels, field = out, ("channels", index)
        if node.projection:
            layer = [(node.projection.features, ("projection", "features"))]
            flat = channels * height * width
            costs += linear_stack_cost(flat, field, layer, node.projection.layer_norm)
        return costs


def _flat_size(name: str, node: ConvSpec, grid: tuple[int, int, int]) -> int:
    """Features after the conv stack and flattening, for a [channels, h, w] input."""
    height, width = grid[1], grid[2]
    for index in range(len(node.channels)):
        height = (height + 2 * node.padding - node.kernel_size) // node.stride + 1
        width = (width + 2 * node.padding - node.kernel_size) // node.stride + 1
        if height < 1 or width < 1:
            raise Problem(
                "E133",
                f"convolution {index + 1} of node '{name}' shrinks its "
                f"{grid[1]}x{grid[2]} input to nothing",
                field="kernel_size",
                hint="use a smaller kernel_size or stride, or more padding",
            )
    return node.channels[-1] * height * width


def _grid_shape(source: NodeInput) -> tuple[int, int, int]:
    if len(source.shape) == 2:
        return (1, source.shape[0], source.shape[1])
    if len(source.shape) == 3:
        return (source.shape[0], source.shape[1], source.shape[2])
    raise Problem(
        "E133",
        f"a conv node needs a grid input ([height, width] or [channels, height, width]), "
        f"but {source.producer} has shape {list(source.shape)}",
        field="input",
        hint="read a grid field such as `obs.grid`",
    )


class ConcatSpec(NodeSpec):
    """Concatenates its inputs' features."""

    kind: Literal["concat"]
    inputs: list[str] = Field(min_length=2)

    def references(self) -> list[str]:
        return list(self.inputs)


class Concat(Kind):
    name = "concat"
    spec = ConcatSpec

    def infer(
        self, name: str, node: ConcatSpec, inputs: list[NodeInput]
    ) -> tuple[ConcatSpec, Shape]:
        return node, (sum(i.size for i in inputs),)

    def cost(self, node: ConcatSpec, inputs: list[NodeInput]) -> list[Cost]:
        return [Cost(0, sum(i.size for i in inputs), ("inputs",))]

    def forward(self, name: str, node: ConcatSpec, inputs: list[NodeInput]) -> list[str]:
        parts = ", ".join(i.expr for i in inputs)
        line = f"{name} = torch.cat([{parts}], dim=-1)"
        if len(line) <= BODY_WIDTH:
            return [line]
        if len(parts) + 14 <= BODY_WIDTH:
            return [f"{name} = torch.cat(", f"    [{parts}], dim=-1", ")"]
        items = [f"        {i.expr}," for i in inputs]
        return [f"{name} = torch.cat(", "    [", *items, "    ],", "    dim=-1,", ")"]


class LayerNormSpec(NodeSpec):
    """LayerNorm over the input's features."""

    kind: Literal["layer_norm"]
    input: str
    eps: float = Field(default=1e-5, gt=0)
    input_size: int | Auto = "auto"


class LayerNorm(Kind):
    name = "layer_norm"
    spec = LayerNormSpec

    def infer(
        self, name: str, node: LayerNormSpec, inputs: list[NodeInput]
    ) -> tuple[LayerNormSpec, Shape]:
        size = settle(name, node.input_size, inputs[0].size, "input_size", inputs[0])
        return node.model_copy(update={"input_size": size}), (size,)

    def constructor(self, node: LayerNormSpec, inputs: list[NodeInput]) -> str:
        eps = "" if node.eps == 1e-5 else f", eps={node.eps!r}"
        return f"nn.LayerNorm({node.input_size}{eps})"

    def cost(self, node: LayerNormSpec, inputs: list[NodeInput]) -> list[Cost]:
        size = int(node.input_size)
        return [Cost(2 * size, size, ("input",))]

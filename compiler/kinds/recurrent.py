"""Recurrent memory: ``lstm`` and ``gru``.

A brain with a recurrent node carries a hidden state ``(h, c)`` of shape
``[num_layers, batch, hidden_size]`` that the caller passes in and gets back; the
module itself stores none. A GRU has no cell state, so its ``c`` passes through
unchanged: every recurrent brain has the same signature.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Auto, Cost, Kind, NodeInput, NodeSpec, Shape, settle


class RecurrentSpec(NodeSpec):
    """An LSTM or GRU over time (batch-first)."""

    kind: Literal["lstm", "gru"]
    input: str
    hidden_size: int = Field(ge=1)
    """Size of the hidden state."""
    num_layers: int = Field(default=1, ge=1, le=8)
    input_size: int | Auto = "auto"


class LstmSpec(RecurrentSpec):
    kind: Literal["lstm"]


class GruSpec(RecurrentSpec):
    kind: Literal["gru"]


class Recurrent(Kind):
    recurrent = True

    def infer(
        self, name: str, node: RecurrentSpec, inputs: list[NodeInput]
    ) -> tuple[RecurrentSpec, Shape]:
        size = settle(name, node.input_size, inputs[0].size, "input_size", inputs[0])
        return node.model_copy(update={"input_size": size}), (node.hidden_size,)

    def constructor(self, node: RecurrentSpec, inputs: list[NodeInput]) -> str:
        layers = f", num_layers={node.num_layers}" if node.num_layers != 1 else ""
        cls = "nn.LSTM" if node.kind == "lstm" else "nn.GRU"
        return f"{cls}({node.input_size}, {node.hidden_size}{layers}, batch_first=True)"

    def cost(self, node: RecurrentSpec, inputs: list[NodeInput]) -> list[Cost]:
        gates = 4 if node.kind == "lstm" else 3
        size, width = node.hidden_size, int(node.input_size)
        costs = []
        for layer in range(node.num_layers):
            params = gates * size * (width + size) + 2 * gates * size  # weights, two biases
            field = ("input",) if layer == 0 and width > size else ("hidden_size",)
            costs.append(Cost(params, (2 * gates + 2) * size, field))  # gates, h and c
            width = size
        return costs

    def forward(self, name: str, node: RecurrentSpec, inputs: list[NodeInput]) -> list[str]:
        # Everything before this node ran on [batch * time, features]; the memory
        # needs the time axis back, and everything after it runs flat again.
        sequence = f"{inputs[0].expr}.reshape(batch, time, -1)"
        state = "(h, c)" if node.kind == "lstm" else "h"
        return [
            f"{name}, {state} = self.{name}({sequence}, {state})",
            f"{name} = {name}.reshape(batch * time, {node.hidden_size})",
        ]


class Lstm(Recurrent):
    name = "lstm"
    spec = LstmSpec


class Gru(Recurrent):
    name = "gru"
    spec = GruSpec

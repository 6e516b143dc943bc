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
        # needs the time axis back, and everything after it runs flat again. One step
        # (acting) takes the gate-by-gate path; an export traces the module's own.
        sequence = f"{inputs[0].expr}.reshape(batch, time, -1)"
        state = "(h, c)" if node.kind == "lstm" else "h"
        step = "h, c" if node.kind == "lstm" else "h"
        return [
            "if time == 1 and not torch.jit.is_tracing():",
            f"    {name}, {step} = {node.kind}_step(self.{name}, {inputs[0].expr}, {step})",
            "else:",
            f"    {name}, {state} = self.{name}({sequence}, {state})",
            f"    {name} = {name}.reshape(batch * time, {node.hidden_size})",
        ]

    def helper_source(self) -> str:
        """The module-level function the generated forward calls for one step."""
        return LSTM_STEP_SOURCE if self.name == "lstm" else GRU_STEP_SOURCE


class Lstm(Recurrent):
    name = "lstm"
    spec = LstmSpec


class Gru(Recurrent):
    name = "gru"
    spec = GruSpec


LSTM_STEP_SOURCE = '''\
def lstm_step(lstm: nn.LSTM, x: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """One time step of ``lstm`` for inputs ``x`` [batch, features]: (output, h, c).

    The arithmetic of ``lstm`` over a sequence of length 1, gate by gate. For a single
    step (acting) this costs a fraction of the sequence kernel's fixed price.
    """
    hs, cs = [], []
    for layer in range(lstm.num_layers):
        w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
        b_ih, b_hh = getattr(lstm, f"bias_ih_l{layer}"), getattr(lstm, f"bias_hh_l{layer}")
        gates = nn.functional.linear(x, w_ih, b_ih) + nn.functional.linear(h[layer], w_hh, b_hh)
        i, f, g, o = gates.chunk(4, dim=-1)  # input, forget, cell and output gates
        cell = torch.sigmoid(f) * c[layer] + torch.sigmoid(i) * torch.tanh(g)
        x = torch.sigmoid(o) * torch.tanh(cell)
        hs.append(x)
        cs.append(cell)
    return x, torch.stack(hs), torch.stack(cs)
'''

GRU_STEP_SOURCE = '''\
def gru_step(gru: nn.GRU, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
    """One time step of ``gru`` for inputs ``x`` [batch, features]: (output, h).

    The arithmetic of ``gru`` over a sequence of length 1, gate by gate. For a single
    step (acting) this costs a fraction of the sequence kernel's fixed price.
    """
    hs = []
    for layer in range(gru.num_layers):
        w_ih, w_hh = getattr(gru, f"weight_ih_l{layer}"), getattr(gru, f"weight_hh_l{layer}")
        b_ih, b_hh = getattr(gru, f"bias_ih_l{layer}"), getattr(gru, f"bias_hh_l{layer}")
        i_r, i_z, i_n = nn.functional.linear(x, w_ih, b_ih).chunk(3, dim=-1)
        h_r, h_z, h_n = nn.functional.linear(h[layer], w_hh, b_hh).chunk(3, dim=-1)
        reset, update = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        new = torch.tanh(i_n + reset * h_n)
        x = (1 - update) * new + update * h[layer]
        hs.append(x)
    return x, torch.stack(hs)
'''

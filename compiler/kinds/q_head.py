"""The Q-value head: an MLP trunk and an output layer with one value per action.

Three independent options give 8 variants: ``dueling`` (value and advantage
streams), ``distributional`` (C51: per-atom logits over a fixed support, Q is the
expectation) and ``noisy`` (NoisyNet layers whose noise is drawn only when asked
for, so the module stays deterministic and stateless by default).

The plain head compiles to an ``nn.Sequential`` whose parameter names match the
original system's networks; the others compile to a small ``QHead`` class.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from .base import (
    ACTIVATION_FUNCTIONS,
    LINE_LENGTH,
    Activation,
    Auto,
    Cost,
    KeyPath,
    Kind,
    NodeInput,
    NodeSpec,
    Problem,
    Shape,
    linear_stack,
    linear_stack_cost,
    sequential,
    settle,
    signature,
    wrap,
)


class DistributionalSpec(NodeSpec):
    """Return distribution over ``atoms`` evenly spaced values in [v_min, v_max]."""

    atoms: int = Field(default=51, ge=2)
    v_min: float = -10.0
    v_max: float = 10.0


class NoisySpec(NodeSpec):
    """Factorised Gaussian NoisyNet layers."""

    sigma0: float = Field(default=0.5, gt=0)


class QHeadSpec(NodeSpec):
    """The Q-value head."""

    kind: Literal["q_head"]
    input: str
    hidden: list[int] = Field(default_factory=list)
    activation: Activation = "relu"
    layer_norm: bool = False
    actions: int | Auto = "auto"
    input_size: int | Auto = "auto"
    dueling: bool = False
    distributional: DistributionalSpec | Literal[False] = False
    noisy: NoisySpec | Literal[False] = False

    @field_validator("distributional", "noisy", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        return {} if value is True else value  # `true`: on, with the defaults

    @property
    def plain(self) -> bool:
        return not (self.dueling or self.distributional or self.noisy)


class QHead(Kind):
    name = "q_head"
    spec = QHeadSpec

    def infer(self, name: str, node: QHeadSpec, inputs: list[NodeInput]) -> tuple[Any, Shape]:
        raise TypeError("q_head needs the action count: use infer_head")

    def infer_head(
        self, name: str, node: QHeadSpec, inputs: list[NodeInput], actions: int | None
    ) -> tuple[QHeadSpec, Shape]:
        size = settle(name, node.input_size, inputs[0].size, "input_size", inputs[0])
        if node.distributional and node.distributional.v_max <= node.distributional.v_min:
            raise Problem(
                "E113",
                f"v_max ({node.distributional.v_max}) must be greater than "
                f"v_min ({node.distributional.v_min})",
                field="distributional",
                hint="swap them or widen the range",
            )
        if node.actions == "auto":
            if actions is None:
                raise Problem(
                    "E132",
                    f"cannot infer `actions` of node '{name}': no world gives the action count",
                    field="actions",
                    hint="compile inside a config pack, pass --world PACK or --actions N, "
                    "or write `actions: N`",
                )
            count = actions
        elif actions is not None and node.actions != actions:
            raise Problem(
                "E130",
                f"node '{name}' declares actions: {node.actions}, but the world has {actions}",
                field="actions",
                hint=f"set `actions: auto` (or {actions})",
            )
        else:
            count = int(node.actions)
        return node.model_copy(update={"input_size": size, "actions": count}), (count,)

    def constructor(self, node: QHeadSpec, inputs: list[NodeInput]) -> str:
        if node.plain:
            layers = linear_stack(
                int(node.input_size), node.hidden, node.activation, node.layer_norm
            )
            return sequential([*layers, f"nn.Linear({_width(node)}, {node.actions})"])
        return "QHead()"

    def cost(self, node: QHeadSpec, inputs: list[NodeInput]) -> list[Cost]:
        noisy = bool(node.noisy)
        layers = [(size, ("hidden", i)) for i, size in enumerate(node.hidden)]
        costs = linear_stack_cost(
            int(node.input_size), ("input",), layers, node.layer_norm, noisy=noisy
        )
        width, actions = _width(node), int(node.actions)
        atoms = node.distributional.atoms if node.distributional else 1
        outputs = actions * atoms + (atoms if node.dueling else 0)  # + the value stream
        params = (width * outputs + outputs) * (2 if noisy else 1)
        source: KeyPath = ("hidden", len(node.hidden) - 1) if node.hidden else ("input",)
        factors = {("actions",): actions, ("distributional", "atoms"): atoms, source: width}
        field = max(factors, key=factors.__getitem__)
        # logits; for C51 also the softmax and its product with the support
        values = outputs * (3 if node.distributional else 1)
        return [*costs, Cost(params, values, field)]

    def head_class(self, node: QHeadSpec) -> str:
        """Source of the ``QHead`` class (empty for the plain head)."""
        return "" if node.plain else _HeadWriter(node).source()


def _docstring(text: str) -> list[str]:
    lines = wrap(text, LINE_LENGTH - 10)
    if len(lines) == 1:
        return [f'    """{lines[0]}"""']
    return [f'    """{lines[0]}', *(f"    {line}" for line in lines[1:]), '    """']


def _width(node: QHeadSpec) -> int:
    return node.hidden[-1] if node.hidden else int(node.input_size)


class _HeadWriter:
    """Writes a ``QHead`` class specialised to one combination of options."""

    def __init__(self, node: QHeadSpec) -> None:
        self.node = node
        self.actions = int(node.actions)
        self.atoms = node.distributional.atoms if node.distributional else 1
        self.noise_params = (
            ", noise: bool = False, generator: torch.Generator | None = None" if node.noisy else ""
        )
        self.noise_args = ", noise, generator" if node.noisy else ""

    def linear(self, n_in: int, n_out: str | int) -> str:
        if self.node.noisy:
            return f"NoisyLinear({n_in}, {n_out}, sigma0={self.node.noisy.sigma0!r})"
        return f"nn.Linear({n_in}, {n_out})"

    def source(self) -> str:
        node = self.node
        init, body = self._layers()
        lines = [
            "class QHead(nn.Module):",
            *_docstring(f"Q-head: {self._summary()}."),
            "",
            "    def __init__(self) -> None:",
            "        super().__init__()",
            *(f"        {line}" for line in init),
            "",
        ]
        if node.distributional:
            dist = node.distributional
            lines += [
                *signature("support", "self, like: Tensor", "Tensor"),
                f'        """The {dist.atoms} returns the atoms stand for (on the device and '
                'dtype of like)."""',
                f"        return torch.linspace({dist.v_min!r}, {dist.v_max!r}, {dist.atoms}, "
                "device=like.device, dtype=like.dtype)",
                "",
                *signature("logits", f"self, x: Tensor{self.noise_params}", "Tensor"),
                f'        """Per-atom logits of the return distribution, [..., {self.actions}, '
                f'{self.atoms}]."""',
                *(f"        {line}" for line in body),
                "",
                *signature("forward", f"self, x: Tensor{self.noise_params}", "Tensor"),
                f'        """Expected Q-values, [..., {self.actions}]."""',
                f"        probs = torch.softmax(self.logits(x{self.noise_args}), dim=-1)",
                "        return (probs * self.support(probs)).sum(dim=-1)",
            ]
        else:
            lines += [
                *signature("forward", f"self, x: Tensor{self.noise_params}", "Tensor"),
                f'        """Q-values, [..., {self.actions}]."""',
                *(f"        {line}" for line in body),
            ]
        return "\n".join(lines) + "\n"

    def _layers(self) -> tuple[list[str], list[str]]:
        node, init, body = self.node, [], []
        width = int(node.input_size)
        act = ACTIVATION_FUNCTIONS[node.activation]
        for index, out in enumerate(node.hidden):
            init.append(f"self.hidden_{index} = {self.linear(width, out)}")
            value = f"self.hidden_{index}(x{self.noise_args})"
            if node.layer_norm:
                init.append(f"self.norm_{index} = nn.LayerNorm({out})")
                value = f"self.norm_{index}({value})"
            body.append(f"x = {act}({value})")
            width = out
        atoms, actions = self.atoms, self.actions
        shape = f".unflatten(-1, ({{}}, {atoms}))" if node.distributional else ""
        if node.dueling:
            init.append(f"self.value = {self.linear(width, atoms)}")
            init.append(f"self.advantage = {self.linear(width, actions * atoms)}")
            body.append(f"value = self.value(x{self.noise_args}){shape.format(1)}")
            body.append(f"advantage = self.advantage(x{self.noise_args}){shape.format(actions)}")
            axis = -2 if node.distributional else -1
            body.append(f"return value + advantage - advantage.mean(dim={axis}, keepdim=True)")
        else:
            init.append(f"self.out = {self.linear(width, actions * atoms)}")
            body.append(f"return self.out(x{self.noise_args}){shape.format(actions)}")
        return init, body

    def _summary(self) -> str:
        node = self.node
        parts = []
        if node.hidden:
            norm = ", LayerNorm" if node.layer_norm else ""
            parts.append(f"hidden {node.hidden} ({node.activation}{norm})")
        if node.dueling:
            parts.append("dueling value/advantage streams")
        if node.distributional:
            d = node.distributional
            parts.append(f"{d.atoms} atoms on [{d.v_min!r}, {d.v_max!r}]")
        if node.noisy:
            parts.append(f"noisy layers (sigma0 {node.noisy.sigma0!r})")
        return ", ".join(parts)


NOISY_LINEAR_SOURCE = '''\
class NoisyLinear(nn.Module):
    """Linear layer with learned factorised Gaussian noise (NoisyNet).

    Noise is drawn afresh on each call with ``noise=True``; otherwise the layer uses
    its mean weights, so it is deterministic and keeps no state between calls.
    """

    def __init__(self, in_features: int, out_features: int, sigma0: float) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = in_features**-0.5
        weight = torch.empty(out_features, in_features).uniform_(-bound, bound)
        self.weight_mu = nn.Parameter(weight)
        self.weight_sigma = nn.Parameter(torch.full((out_features, in_features), sigma0 * bound))
        self.bias_mu = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
        self.bias_sigma = nn.Parameter(torch.full((out_features,), sigma0 * bound))

    def forward(
        self, x: Tensor, noise: bool = False, generator: torch.Generator | None = None
    ) -> Tensor:
        if not noise:
            return nn.functional.linear(x, self.weight_mu, self.bias_mu)
        eps_in = _signed_sqrt_noise(self.in_features, x, generator)
        eps_out = _signed_sqrt_noise(self.out_features, x, generator)
        weight = self.weight_mu + self.weight_sigma * torch.outer(eps_out, eps_in)
        return nn.functional.linear(x, weight, self.bias_mu + self.bias_sigma * eps_out)


def _signed_sqrt_noise(size: int, like: Tensor, generator: torch.Generator | None) -> Tensor:
    eps = torch.randn(size, generator=generator, device=like.device, dtype=like.dtype)
    return eps.sign() * eps.abs().sqrt()
'''

"""Write the resolved brain as standalone, readable PyTorch source, and load it.

The source imports only ``torch``. Its module is pure: feed-forward brains map
``forward(obs) -> q``; recurrent ones ``forward(obs, h, c) -> (q, h, c)`` plus
``forward_sequence`` over ``[batch, time, obs]``. Distributional brains add
``q_logits``; noisy ones take ``noise=True`` (and an optional generator) to draw
fresh noise, and are deterministic without it.
"""

from __future__ import annotations

import linecache
import re
import sys
import types
from typing import Any

from .kinds import KINDS, NOISY_LINEAR_SOURCE
from .kinds.base import INDENT, signature, wrap
from .resolve import ResolvedBrain

_MODULE_NAMES = frozenset({"NoisyLinear", "QHead", "Tensor"})
"""Top-level names of the generated module that the brain's class must not replace."""


def class_name(brain_name: str) -> str:
    """``recurrent_spatial_q`` -> ``RecurrentSpatialQ``; ``q_head`` -> ``QHeadBrain``
    (the module has a ``QHead`` class of its own).
    """
    parts = [p for p in re.split(r"_+", brain_name) if p]
    name = "".join(p[0].upper() + p[1:] for p in parts) or "Brain"
    if name in _MODULE_NAMES:
        return f"{name}Brain"
    return name if name[0].isalpha() else f"Brain{name}"


def generate_source(brain: ResolvedBrain) -> str:
    """The Python source of the brain's module."""
    return _Writer(brain).source()


def load_class(source: str, name: str, spec_hash: str) -> type[Any]:
    """Execute generated source as a module and return its class ``name``.

    The source is registered with :mod:`linecache` so that tracebacks and
    ``inspect.getsource`` (used by TorchScript) can show it.
    """
    tag = spec_hash.split(":")[-1][:16]
    module_name = f"hamlet_generated_{name}_{tag}"
    filename = f"<hamletc {name} {tag}>"
    module = types.ModuleType(module_name)
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), module.__dict__)
    sys.modules[module_name] = module
    return module.__dict__[name]


class _Writer:
    def __init__(self, brain: ResolvedBrain) -> None:
        self.brain = brain
        self.head = brain.head_spec
        self.name = class_name(brain.spec.name)
        self.noisy = bool(self.head.noisy)
        self.distributional = bool(self.head.distributional)

    def source(self) -> str:
        blocks = [self._docstring() + "\nimport torch\nfrom torch import Tensor, nn\n"]
        if self.noisy:
            blocks.append(NOISY_LINEAR_SOURCE)
        head_class = KINDS["q_head"].head_class(self.head)  # type: ignore[attr-defined]
        if head_class:
            blocks.append(head_class)
        if self.brain.recurrent:
            blocks.append(KINDS[self.brain.recurrent.kind].helper_source())  # type: ignore[attr-defined]
        blocks.append(self._module())
        return "\n\n\n".join(b.strip("\n") for b in blocks) + "\n"

    def _docstring(self) -> str:
        brain, layout = self.brain, self.brain.layout
        width = max(len(f.name) for f in layout.fields)
        lines = [
            f'"""{self.name}: the Q-network of brain \'{brain.spec.name}\', written by hamletc.'
        ]
        if brain.spec.description:
            lines += ["", *wrap(_docstring_safe(brain.spec.description.strip()), 84)]
        lines += ["", f"Spec hash:   {brain.spec_hash}", f"Observation: {layout.obs_dim} values"]
        lines += [
            f"    {f.name:<{width}}  {list(f.shape)!s:<8}  obs[:, {f.offset}:{f.end}]"
            for f in layout.fields
        ]
        lines += [
            f"Actions:     {_docstring_safe(', '.join(layout.action_names))}",
            "",
            "This file needs only torch. It is generated: edit the brain spec and recompile.",
            '"""',
        ]
        return "\n".join(lines) + "\n"

    def _module(self) -> str:
        brain, layout = self.brain, self.brain.layout
        recurrent = brain.recurrent
        lines = [
            f"class {self.name}(nn.Module):",
            f'    """Observations [batch, {layout.obs_dim}] -> Q-values [batch, '
            f'{layout.num_actions}]."""',
            "",
            f'    spec_hash = "{brain.spec_hash}"',
            f"    obs_dim = {layout.obs_dim}",
            f"    num_actions = {layout.num_actions}",
            f'    recurrent = "{recurrent.kind}"' if recurrent else "    recurrent = None",
        ]
        if recurrent:
            lines += [
                f"    hidden_size = {recurrent.spec.hidden_size}",  # type: ignore[attr-defined]
                f"    num_layers = {recurrent.spec.num_layers}",  # type: ignore[attr-defined]
            ]
        lines += [
            f'    head_name = "{brain.head.name}"',
            f"    noisy = {self.noisy}",
            f"    distributional = {self.distributional}",
            "",
            "    def __init__(self) -> None:",
            "        super().__init__()",
        ]
        for node in brain.nodes:
            built = KINDS[node.kind].constructor(node.spec, list(node.inputs))
            if built:
                lines.append(_indent(f"self.{node.name} = {built}", 2))
        lines.append("")
        lines += self._recurrent_methods() if recurrent else self._feed_forward_methods()
        return "\n".join(lines) + "\n"

    def _head_call(self, x: str, method: str = "") -> str:
        noise = ", noise, generator" if self.noisy else ""
        return f"self.{self.brain.head.name}{method}({x}{noise})"

    def _noise_params(self) -> str:
        return (
            ", noise: bool = False, generator: torch.Generator | None = None" if self.noisy else ""
        )

    def _feed_forward_methods(self) -> list[str]:
        dim, actions = self.brain.layout.obs_dim, self.brain.layout.num_actions
        noise = self._noise_params()
        lines = [
            *signature("forward", f"self, obs: Tensor{noise}", "Tensor"),
            f'        """Q-values [batch, {actions}] for observations [batch, {dim}]."""',
            f"        return {self._head_call('self.trunk(obs)')}",
            "",
        ]
        if self.distributional:
            atoms = self.head.distributional.atoms  # type: ignore[union-attr]
            lines += [
                *signature("q_logits", f"self, obs: Tensor{noise}", "Tensor"),
                f'        """Per-atom logits [batch, {actions}, {atoms}]; forward() is their '
                'expected value."""',
                f"        return {self._head_call('self.trunk(obs)', '.logits')}",
                "",
            ]
        width = self.brain.head.inputs[0].size
        lines += [
            *signature("trunk", "self, obs: Tensor", "Tensor"),
            f'        """What the Q-head reads: [batch, {width}]."""',
            *self._node_lines(),
            f"        return {self.brain.head.inputs[0].expr}",
        ]
        return lines

    def _recurrent_methods(self) -> list[str]:
        layout, recurrent = self.brain.layout, self.brain.recurrent
        assert recurrent is not None
        dim, actions = layout.obs_dim, layout.num_actions
        width = self.brain.head.inputs[0].size
        triple = "tuple[Tensor, Tensor, Tensor]"
        noise = self._noise_params()
        lines = [
            *signature(
                "initial_state",
                "self, batch_size: int, device: torch.device | str | None = None",
                "tuple[Tensor, Tensor]",
            ),
            '        """Zero hidden state (h, c), each [num_layers, batch, hidden_size]."""',
            "        h = torch.zeros(self.num_layers, batch_size, self.hidden_size, device=device)",
            "        return h, torch.zeros_like(h)",
            "",
            *signature("forward", f"self, obs: Tensor, h: Tensor, c: Tensor{noise}", triple),
            f'        """One step: obs [batch, {dim}] and state h, c -> '
            f'(Q-values [batch, {actions}], h, c)."""',
            "        x, h, c = self.trunk(obs.unsqueeze(1), h, c)",
            f"        return {self._head_call('x[:, 0]')}, h, c",
            "",
            *signature(
                "forward_sequence", f"self, obs: Tensor, h: Tensor, c: Tensor{noise}", triple
            ),
            f'        """A sequence: obs [batch, time, {dim}] -> '
            f'(Q-values [batch, time, {actions}], h, c)."""',
            "        x, h, c = self.trunk(obs, h, c)",
            f"        return {self._head_call('x')}, h, c",
            "",
        ]
        if self.distributional:
            atoms = self.head.distributional.atoms  # type: ignore[union-attr]
            logits = self._head_call("x", ".logits")
            lines += [
                *signature("q_logits", f"self, obs: Tensor, h: Tensor, c: Tensor{noise}", triple),
                f'        """Per-atom logits [batch, time, {actions}, {atoms}] of a sequence '
                '[batch, time, obs]."""',
                "        x, h, c = self.trunk(obs, h, c)",
                f"        return {logits}, h, c",
                "",
            ]
        lines += [
            *signature("trunk", "self, obs: Tensor, h: Tensor, c: Tensor", triple),
            f'        """What the Q-head reads, over a sequence: [batch, time, {width}]."""',
            "        batch, time = obs.shape[0], obs.shape[1]",
            f"        obs = obs.reshape(batch * time, {dim})",
            *self._node_lines(),
            f"        return {self.brain.head.inputs[0].expr}.reshape(batch, time, {width}), h, c",
        ]
        return lines

    def _node_lines(self) -> list[str]:
        lines: list[str] = []
        for node in self.brain.nodes[:-1]:
            for line in KINDS[node.kind].forward(node.name, node.spec, list(node.inputs)):
                lines.append(_indent(line, 2))
        return lines


def _docstring_safe(text: str) -> str:
    """User text made safe inside a triple-quoted docstring."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _indent(text: str, levels: int) -> str:
    pad = INDENT * levels
    return "\n".join(pad + line if line else line for line in text.split("\n"))

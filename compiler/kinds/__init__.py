"""The closed registry of node kinds: ``kind`` name -> builder.

A spec can only name one of these; it can never name an import path or a Python
callable. Adding a kind means adding a :class:`Kind` subclass here, its JSON
Schema in ``schemas/brain.schema.json`` and a line in ``docs/brain.md``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Cost, KeyPath, Kind, NodeInput, NodeSpec, Problem, Shape
from .layers import Concat, ConcatSpec, Conv, ConvSpec, LayerNorm, LayerNormSpec, Mlp, MlpSpec
from .q_head import NOISY_LINEAR_SOURCE, QHead, QHeadSpec
from .recurrent import Gru, GruSpec, Lstm, LstmSpec, RecurrentSpec

KINDS: dict[str, Kind] = {
    kind.name: kind for kind in (Mlp(), Conv(), Concat(), Lstm(), Gru(), LayerNorm(), QHead())
}

AnyNode = Annotated[
    MlpSpec | ConvSpec | ConcatSpec | LstmSpec | GruSpec | LayerNormSpec | QHeadSpec,
    Field(discriminator="kind"),
]

__all__ = [
    "KINDS",
    "NOISY_LINEAR_SOURCE",
    "AnyNode",
    "ConcatSpec",
    "ConvSpec",
    "Cost",
    "KeyPath",
    "Kind",
    "LayerNormSpec",
    "MlpSpec",
    "NodeInput",
    "NodeSpec",
    "Problem",
    "QHeadSpec",
    "RecurrentSpec",
    "Shape",
]

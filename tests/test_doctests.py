"""The examples in docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "hamlet.configs",
    "hamlet.schemas.layout",
    "hamlet.schemas.options",
    "hamlet.schemas.pack_loading",
    "hamlet.schemas.pack_world",
    "hamlet.schemas.source",
    "hamlet.schemas.sweep",
    "hamlet.schemas.yaml_syntax",
    "hamlet.compiler",
    "hamlet.compiler.load",
    "hamlet.compiler.pipeline",
    "hamlet.runtime",
    "hamlet.runtime.model.actions",
    "hamlet.runtime.model.device",
    "hamlet.runtime.model.hamlet_model",
    "hamlet.runtime.learning.targets",
    "hamlet.runtime.runs.progress",
    "hamlet.runtime.world",
    "hamlet.runtime.world.town",
    "hamlet.runtime.text",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0

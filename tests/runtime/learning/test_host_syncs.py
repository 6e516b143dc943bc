"""A training step waits for the device once: to learn which episodes ended.

On a GPU every read of a tensor's value by Python (``.item()``, ``bool``, ``float``,
``.tolist()``) and every op whose output size depends on the data (``nonzero``, boolean
indexing) stalls the host until the device catches up. Here every aten op of a step is
watched through a dispatch mode. Such reads all go through ``_local_scalar_dense`` or
``nonzero``. A step in which no episode ends, learning or not, must make exactly one:
``bool(ended.any())``. The same holds on any device, so the test runs on the CPU.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from torch.utils._python_dispatch import TorchDispatchMode

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.trainer import Trainer
from hamlet.schemas import load_pack

from ..conftest import tiny_pack

WAITS = re.compile(r"aten\.(_local_scalar_dense|nonzero|masked_select|unique|item)")


class HostWaits(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        if WAITS.match(str(func)):
            self.calls[str(func)] += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("source", ["L1_full_observability", "L2_partial_observability"])
@pytest.mark.parametrize("prioritized", [False, True])
def test_a_step_without_an_ending_waits_for_the_device_once(tmp_path, source, prioritized):
    folder = tiny_pack(tmp_path, source)
    if prioritized:
        brain = folder / "brain.yaml"
        text = brain.read_text().replace(
            "    capacity: 400", "    capacity: 400\n    prioritized: {alpha: 0.6, beta: 0.4}"
        )
        brain.write_text(text)
    pack = load_pack(folder)
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    assert (model.spec["learning"]["replay"]["prioritized"] is not False) == prioritized
    trainer = Trainer(pack, model, num_agents=3, seed=0)
    while not trainer.learner.ready:
        trainer.step()
    quiet, learned = 0, 0
    for _ in range(200):
        before = trainer.learner.gradient_steps
        watch = HostWaits()
        with watch:
            ended = trainer.step()
        if ended:
            continue
        assert watch.calls == {"aten._local_scalar_dense.default": 1}, watch.calls
        quiet += 1
        learned += trainer.learner.gradient_steps - before
        if quiet >= 12 and learned >= 2:
            break
    assert quiet >= 12 and learned >= 2

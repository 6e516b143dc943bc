"""The same training on every device: nothing stays behind on the CPU.

Each test runs on the CPU and, where one is present, on a CUDA device. On the CPU the
tests check the code is device-agnostic: every tensor is made where the trainer lives.
On a GPU they also compare the world and the network with the CPU's, step for step.
"""

from __future__ import annotations

import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.trainer import Trainer
from hamlet.runtime.model.device import resolve_device
from hamlet.runtime.world import TownWorld
from hamlet.schemas import load_pack
from hamlet.schemas.errors import RunError

from ..conftest import ACROSS_KERNELS
from .conftest import tiny_pack

DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


def tensors_of(value, path="trainer"):
    """Every tensor reachable from ``value`` (attributes, dicts, lists), with its path."""
    seen: set[int] = set()
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, torch.Tensor):
            yield where, item
        elif isinstance(item, dict):
            stack += [(f"{where}[{k!r}]", v) for k, v in item.items()]
        elif isinstance(item, list | tuple):
            stack += [(f"{where}[{i}]", v) for i, v in enumerate(item)]
        elif isinstance(item, torch.nn.Module):
            stack += [(f"{where}.{k}", v) for k, v in item.state_dict(keep_vars=True).items()]
        elif isinstance(item, torch.optim.Optimizer):
            stack.append((f"{where}.state", list(item.state.values())))
        elif hasattr(item, "__dict__") and type(item).__module__.startswith("hamlet"):
            stack += [(f"{where}.{k}", v) for k, v in vars(item).items()]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("source", ["L1_full_observability", "L2_partial_observability"])
def test_training_keeps_every_tensor_on_its_device(tmp_path, device, source):
    pack = load_pack(tiny_pack(tmp_path, source))
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0, device=device)
    trainer = Trainer(pack, model, num_agents=3, seed=0, device=device)
    ended = []
    while trainer.learner.gradient_steps < 3 or not ended:
        ended += trainer.step()
    expected = torch.device(device).type
    misplaced = [
        f"{where} on {t.device}" for where, t in tensors_of(trainer) if t.device.type != expected
    ]
    # (a generator's state is a CPU byte tensor on every device)
    assert not [m for m in misplaced if "generator" not in m], misplaced
    state = trainer.checkpoint({}, {})
    again = Trainer(pack, HamletModel.from_spec(pack.directory / "brain.yaml", seed=1, device=device),
                    num_agents=3, seed=0, device=device)  # fmt: skip
    again.restore(state)
    assert again.step() is not None and again.env_steps == trainer.env_steps + 1


@needs_gpu
@pytest.mark.numeric
def test_the_world_steps_alike_on_cpu_and_gpu():
    cpu = TownWorld("L3_temporal_mechanics", 64, seed=0)
    gpu = TownWorld("L3_temporal_mechanics", 64, seed=0, device="cuda")
    gpu.load_state_dict({k: v.cuda() if isinstance(v, torch.Tensor) else v
                         for k, v in cpu.state_dict().items()} | {"generator": gpu.state_dict()["generator"]})  # fmt: skip
    policy = torch.Generator().manual_seed(0)
    for _ in range(50):
        actions = torch.randint(0, 6, (64,), generator=policy)
        a, b = cpu.step(actions, 1.0), gpu.step(actions.cuda(), 1.0)
        torch.testing.assert_close(b.obs.cpu(), a.obs, **ACROSS_KERNELS)
        torch.testing.assert_close(b.reward.cpu(), a.reward, **ACROSS_KERNELS)
        assert torch.equal(b.done.cpu(), a.done) and torch.equal(b.truncated.cpu(), a.truncated)
        if bool((a.done | a.truncated).any()):
            break


@needs_gpu
@pytest.mark.numeric
@pytest.mark.parametrize("brain", ["simple_q", "recurrent_spatial_q"])
def test_the_network_acts_alike_on_cpu_and_gpu(brain):
    cpu = HamletModel.from_spec(brain, seed=0)
    gpu = HamletModel.from_spec(brain, seed=0, device="cuda")
    gpu.module.load_state_dict(cpu.module.state_dict())
    obs = torch.rand(32, cpu.obs_dim, generator=torch.Generator().manual_seed(0))
    a, b = cpu.predict(obs), gpu.predict(obs.cuda())
    torch.testing.assert_close(b["q_values"].cpu(), a["q_values"], **ACROSS_KERNELS)


@pytest.mark.parametrize(
    ("cuda_build", "says", "hint"),
    [(None, "this PyTorch is a CPU-only build", "install a CUDA build of PyTorch"),
     ("13.0", "no CUDA GPU is visible here", "use --device cpu (or auto)")],
    ids=["cpu-only-build", "cuda-build-without-gpu"],
)  # fmt: skip
def test_asking_for_a_gpu_where_there_is_none_says_why(monkeypatch, cuda_build, says, hint):
    # Whichever build this suite runs on: a CPU-only one (the README's), or a CUDA one on
    # a machine without a GPU.
    monkeypatch.setattr(torch.version, "cuda", cuda_build)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RunError) as raised:
        resolve_device("cuda")
    diagnostic = raised.value.errors[0]
    assert diagnostic.code == "E301" and says in diagnostic.message and hint in diagnostic.hint
    assert resolve_device("auto") == torch.device("cpu")

"""Random Network Distillation: novelty as the error of a predictor chasing a frozen net.

The intrinsic reward of a state is how badly the predictor matches the frozen random
network on it, divided by the running standard deviation of that error (so that its
scale does not drift as the predictor learns), and clipped at 5. Inputs are
normalised by running statistics and clipped to [-5, 5]. The learner asks for the
novelty of the next states of each sampled batch, multiplies it by the intrinsic
weight exactly once (correction 3), and the predictor trains on those same states.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import Tensor, nn

CLIP = 5.0


class RunningMoments:
    """Running mean and variance (Chan et al.'s parallel update) of batches of values."""

    def __init__(self, shape: tuple[int, ...], device: torch.device | str) -> None:
        self.mean = torch.zeros(shape, device=device)
        self.var = torch.ones(shape, device=device)
        self.count = 1e-4

    def update(self, values: Tensor) -> None:
        # Two passes by hand: Tensor.var over the first axis of a [64, 91] batch takes
        # about 40 us on a CPU, this about 13 (and it is as exact).
        batch_mean, n = values.mean(0), values.shape[0]
        batch_var = (values - batch_mean).square().mean(0)
        delta, total = batch_mean - self.mean, self.count + n
        self.mean = self.mean + delta * n / total
        spread = self.var * self.count + batch_var * n + delta**2 * self.count * n / total
        self.var = spread / total
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "var": self.var, "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean, self.var, self.count = state["mean"], state["var"], float(state["count"])


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if index < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class RND:
    """Novelty of observations, and a predictor that learns what it has seen."""

    def __init__(
        self,
        obs_dim: int,
        *,
        embed_dim: int,
        hidden: list[int],
        learning_rate: float,
        seed: int,
        train_every: int = 1,
        device: torch.device | str = "cpu",
    ) -> None:
        sizes = [obs_dim, *hidden, embed_dim]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.frozen = _mlp(sizes).to(device).requires_grad_(False)
            self.predictor = _mlp(sizes).to(device)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=learning_rate, fused=True)
        self.obs_stats = RunningMoments((obs_dim,), device)
        self.error_stats = RunningMoments((), device)
        self.train_every = train_every
        self.calls = 0
        """Batches seen: the predictor trains on the 1st, then every ``train_every``-th."""
        self.updates = 0

    def _normalise(self, obs: Tensor) -> Tensor:
        return ((obs - self.obs_stats.mean) / self.obs_stats.var.sqrt().clamp(min=1e-6)).clamp(
            -CLIP, CLIP
        )

    def reward(self, obs: Tensor) -> Tensor:
        """Normalised novelty ``[n]`` of observations ``[n, obs_dim]`` (the replayed next
        states of a DQN batch), and one training step of the predictor on them every
        ``train_every`` calls: one pass serves both. Training is two thirds of the cost,
        so a larger ``train_every`` makes exploration cheaper, and its novelty fade
        more slowly."""
        self.obs_stats.update(obs)
        x = self._normalise(obs)
        train = self.calls % self.train_every == 0
        self.calls += 1
        with torch.no_grad():
            target = self.frozen(x)
        with torch.set_grad_enabled(train):
            error = (self.predictor(x) - target).pow(2).mean(-1)
        if train:
            self.optimizer.zero_grad(set_to_none=True)
            error.mean().backward()
            self.optimizer.step()
            self.updates += 1
        novelty = error.detach()
        self.error_stats.update(novelty)
        return self._scaled(novelty)

    def novelty(self, obs: Tensor) -> Tensor:
        """The normalised novelty ``[n]`` of ``obs`` as :meth:`reward` would give it, but
        without learning or updating any statistic (what a recording shows)."""
        with torch.no_grad():
            x = self._normalise(obs)
            return self._scaled((self.predictor(x) - self.frozen(x)).pow(2).mean(-1))

    def _scaled(self, error: Tensor) -> Tensor:
        return (error / self.error_stats.var.sqrt().clamp(min=1e-8)).clamp(max=CLIP)

    def state_dict(self) -> dict[str, Any]:
        return {
            "frozen": self.frozen.state_dict(),
            "predictor": self.predictor.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "obs_stats": self.obs_stats.state_dict(),
            "error_stats": self.error_stats.state_dict(),
            "updates": self.updates,
            "calls": self.calls,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.frozen.load_state_dict(state["frozen"])
        self.predictor.load_state_dict(state["predictor"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.obs_stats.load_state_dict(state["obs_stats"])
        self.error_stats.load_state_dict(state["error_stats"])
        self.updates = int(state["updates"])
        # (checkpoints from before train_every trained on every batch)
        self.calls = int(state.get("calls", self.updates))

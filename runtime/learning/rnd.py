"""Random Network Distillation: novelty as the error of a predictor chasing a frozen net.

The intrinsic reward of a new observation is how badly the predictor matches the
frozen random network on it, divided by the running standard deviation of that error
(so that its scale does not drift as the predictor learns), and clipped at 5. Inputs
are normalised by running statistics and clipped to [-5, 5]. It is multiplied by
the intrinsic weight exactly once, by the caller, when the transition is stored.
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
        batch_mean, batch_var, n = values.mean(0), values.var(0, unbiased=False), values.shape[0]
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
        train_batch: int,
        seed: int,
        device: torch.device | str = "cpu",
    ) -> None:
        sizes = [obs_dim, *hidden, embed_dim]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.frozen = _mlp(sizes).to(device).requires_grad_(False)
            self.predictor = _mlp(sizes).to(device)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=learning_rate)
        self.train_batch = train_batch
        self.obs_stats = RunningMoments((obs_dim,), device)
        self.error_stats = RunningMoments((), device)
        self.pending: list[Tensor] = []
        self.pending_count = 0
        self.updates = 0

    def _normalise(self, obs: Tensor) -> Tensor:
        return ((obs - self.obs_stats.mean) / self.obs_stats.var.sqrt().clamp(min=1e-6)).clamp(
            -CLIP, CLIP
        )

    def reward(self, obs: Tensor) -> Tensor:
        """Normalised novelty ``[n]`` of observations ``[n, obs_dim]``."""
        with torch.no_grad():
            x = self._normalise(obs)
            error = (self.predictor(x) - self.frozen(x)).pow(2).mean(-1)
        self.error_stats.update(error)
        return (error / self.error_stats.var.sqrt().clamp(min=1e-8)).clamp(max=CLIP)

    def observe(self, obs: Tensor) -> None:
        """Keep the newest ``train_batch`` observations for the next :meth:`train`."""
        self.pending.append(obs)
        self.pending_count += obs.shape[0]
        while self.pending and self.pending_count - self.pending[0].shape[0] >= self.train_batch:
            self.pending_count -= self.pending.pop(0).shape[0]

    def train(self) -> float | None:
        """One predictor step on the newest ``train_batch`` observations, if that many came
        since the last step. The trainer calls it once per gradient step of the brain,
        so that its cost does not grow with the number of agents."""
        if self.pending_count < self.train_batch:
            return None
        batch = torch.cat(self.pending)[-self.train_batch :]
        self.pending, self.pending_count = [], 0
        self.obs_stats.update(batch)  # the input statistics follow what the agents see
        x = self._normalise(batch)
        error = (self.predictor(x) - self.frozen(x)).pow(2).mean()
        self.optimizer.zero_grad(set_to_none=True)
        error.backward()
        self.optimizer.step()
        self.updates += 1
        return error.item()

    def state_dict(self) -> dict[str, Any]:
        return {
            "frozen": self.frozen.state_dict(),
            "predictor": self.predictor.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "obs_stats": self.obs_stats.state_dict(),
            "error_stats": self.error_stats.state_dict(),
            "pending": torch.cat(self.pending) if self.pending else None,
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.frozen.load_state_dict(state["frozen"])
        self.predictor.load_state_dict(state["predictor"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.obs_stats.load_state_dict(state["obs_stats"])
        self.error_stats.load_state_dict(state["error_stats"])
        pending = state["pending"]
        self.pending = [pending] if pending is not None else []
        self.pending_count = 0 if pending is None else pending.shape[0]
        self.updates = int(state["updates"])

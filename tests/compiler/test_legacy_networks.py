"""The built-in brains reproduce the original system's networks parameter for parameter.

The reference modules below are written by hand from the description in
WORLD.md §Legacy (names, shapes, layer order); the compiled modules must accept
their state_dicts with strict=True and compute exactly the same outputs.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hamlet.compiler import compile_brain

from ..conftest import ACROSS_KERNELS

pytestmark = pytest.mark.numeric  # run again on other CPU kernels by .ci/run


class SimpleQNetwork(nn.Module):
    def __init__(self, obs_dim: int, actions: int, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(obs_dim, hidden),
            nn.LayerNorm(hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.LayerNorm(hidden),
            nn.ReLU(),
            nn.Linear(hidden, actions),
        )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


class RecurrentSpatialQNetwork(nn.Module):
    def __init__(self, actions: int, window: int, meters: int, affordances: int = 15) -> None:
        super().__init__()
        self.window, self.meters, self.affordances = window, meters, affordances
        self.vision_encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32 * window * window, 128),
            nn.LayerNorm(128),
            nn.ReLU(),
        )
        self.position_encoder = nn.Sequential(nn.Linear(2, 32), nn.ReLU())
        self.meter_encoder = nn.Sequential(nn.Linear(meters, 32), nn.ReLU())
        self.affordance_encoder = nn.Sequential(nn.Linear(affordances, 32), nn.ReLU())
        self.lstm = nn.LSTM(224, 256, num_layers=1, batch_first=True)
        self.lstm_norm = nn.LayerNorm(256)
        self.q_head = nn.Sequential(
            nn.Linear(256, 128), nn.LayerNorm(128), nn.ReLU(), nn.Linear(128, actions)
        )

    def forward(self, obs, h, c):
        w2 = self.window * self.window
        grid = obs[:, :w2].reshape(-1, 1, self.window, self.window)
        position = obs[:, w2 : w2 + 2]
        meters = obs[:, w2 + 2 : w2 + 2 + self.meters]
        start = w2 + 2 + self.meters
        affordance = obs[:, start : start + self.affordances]
        # the trailing 4 temporal values are ignored, as in the original
        features = torch.cat(
            [
                self.vision_encoder(grid),
                self.position_encoder(position),
                self.meter_encoder(meters),
                self.affordance_encoder(affordance),
            ],
            dim=-1,
        )
        out, (h, c) = self.lstm(features.unsqueeze(1), (h, c))
        return self.q_head(self.lstm_norm(out.squeeze(1))), h, c


def test_simple_q_loads_legacy_weights_strictly_and_matches(full_layout):
    torch.manual_seed(0)
    reference = SimpleQNetwork(full_layout.obs_dim, 6)
    compiled = compile_brain("simple_q", layout=full_layout).instantiate()

    assert {k: v.shape for k, v in compiled.state_dict().items()} == {
        k: v.shape for k, v in reference.state_dict().items()
    }
    compiled.load_state_dict(reference.state_dict(), strict=True)
    obs = torch.randn(16, full_layout.obs_dim, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(compiled(obs), reference(obs), **ACROSS_KERNELS)


def test_recurrent_spatial_q_loads_legacy_weights_and_matches_over_steps(partial_layout):
    torch.manual_seed(0)
    reference = RecurrentSpatialQNetwork(actions=6, window=5, meters=8)
    compiled = compile_brain("recurrent_spatial_q", layout=partial_layout).instantiate()
    compiled.load_state_dict(reference.state_dict(), strict=True)

    gen = torch.Generator().manual_seed(2)
    batch = 4
    h_ref = c_ref = torch.zeros(1, batch, 256)
    h, c = compiled.initial_state(batch)
    for _ in range(6):  # carry the hidden state across steps
        obs = torch.randn(batch, partial_layout.obs_dim, generator=gen)
        q_ref, h_ref, c_ref = reference(obs, h_ref, c_ref)
        q, h, c = compiled(obs, h, c)
        torch.testing.assert_close(q, q_ref, **ACROSS_KERNELS)
        torch.testing.assert_close(h, h_ref, **ACROSS_KERNELS)
        torch.testing.assert_close(c, c_ref, **ACROSS_KERNELS)
    assert not torch.equal(h, torch.zeros_like(h))


def test_legacy_parameter_names_are_exactly_the_originals(partial_layout):
    compiled = compile_brain("recurrent_spatial_q", layout=partial_layout).instantiate()
    assert sorted(compiled.state_dict()) == sorted(RecurrentSpatialQNetwork(6, 5, 8).state_dict())

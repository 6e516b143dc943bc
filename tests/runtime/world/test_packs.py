"""Every shipped pack builds a world that runs, with the reference's observation sizes."""

from __future__ import annotations

import pytest
import torch

from hamlet.configs import PACK_NAMES
from hamlet.runtime.world import TownWorld, random_valid_actions
from hamlet.schemas import Diagnostic, SpecError

from .conftest import pack


@pytest.mark.parametrize(
    ("name", "obs_dim"), list(zip(PACK_NAMES, (36, 76, 91, 54, 54), strict=True)), ids=PACK_NAMES
)
def test_every_pack_runs_200_steps_of_random_valid_actions(name, obs_dim):
    town = TownWorld(name, 16, seed=0)
    obs = town.reset()
    assert (town.obs_dim, town.num_actions, obs.shape) == (obs_dim, 6, (16, obs_dim))
    assert town.action_names == ("UP", "DOWN", "LEFT", "RIGHT", "INTERACT", "WAIT")
    policy = torch.Generator().manual_seed(0)
    ended = used = 0
    for _ in range(200):
        mask = town.action_mask()
        actions = random_valid_actions(mask, policy)
        assert bool(mask.gather(1, actions.unsqueeze(1)).all())
        result = town.step(actions, 1.0)
        assert result.obs.shape == (16, obs_dim) and result.obs.dtype == torch.float32
        assert bool(torch.isfinite(result.obs).all())
        ended += int((result.done | result.truncated).sum())
        used += int((result.interactions >= 0).sum())
        town.reset(result.done | result.truncated, obs=result.obs)
    assert used > 0
    assert bool(((town.meters >= 0) & (town.meters <= 1)).all())


def test_a_pack_without_a_health_meter_is_refused_with_the_reason():
    base = pack("L1")
    renamed = tuple(
        m.model_copy(update={"name": "vigour"}) if m.name == "health" else m
        for m in base.bars.meters
    )
    broken = base.model_copy(update={"bars": base.bars.model_copy(update={"meters": renamed})})
    with pytest.raises(SpecError) as caught:
        TownWorld(broken)
    assert isinstance(caught.value.errors[0], Diagnostic)
    assert caught.value.code == "E140" and "health" in str(caught.value)

"""The town simulation: N agents living in a config pack's world, stepped as tensors.

:class:`TownWorld` is the vectorized world (townlet-facts §1-§3 with the corrections
of WORLD.md); :mod:`hamlet.runtime.world.gym` adapts it to Gymnasium.

Imports: the schemas, :mod:`hamlet.runtime.model` (the action choice) and the helpers
below it; nothing of telemetry, learning, runs, the viewer or the CLI.

>>> world = TownWorld("L1_full_observability", num_agents=8, seed=0)
>>> obs = world.reset()
>>> [(f.name, f.shape) for f in world.layout.fields][0], world.obs_dim
(('grid', (8, 8)), 91)
>>> actions = random_valid_actions(world.action_mask(), world.generator)
>>> world.step(actions).reward.shape
torch.Size([8])
"""

from __future__ import annotations

from hamlet.runtime.model.actions import NO_ACTION, random_valid_actions

from .heuristic import HeuristicPolicy
from .state import STATE_KEYS, StepResult
from .town import TownWorld

__all__ = [
    "NO_ACTION",
    "STATE_KEYS",
    "HeuristicPolicy",
    "StepResult",
    "TownWorld",
    "random_valid_actions",
]

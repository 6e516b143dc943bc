"""It learns, in the suite: the smallest pack, trained at its defaults for a fixed number
of agent-steps (the same on any machine), ends with a greedy policy that outlives always
WAIT by far, and its own untrained network, at full difficulty, at two seeds.

Not timed: the budget is agent-steps. tools/bench/learning.py measures the real targets
(five seeds, each pack's wall budget); this is the check small enough for every run of
the suite that learning has not broken.
"""

from __future__ import annotations

import pytest

from hamlet.runtime import HamletModel
from hamlet.runtime.runs import RunOptions, evaluate, run_training
from hamlet.schemas import load_pack

PACK = "L0_0_minimal"
AGENT_STEPS = 500_000
"""About 30 s a seed here. Four seeds of it scored 182 to 238 (always-WAIT: 125, random
valid actions 154 to 171 on these layouts, the heuristic 280)."""
MARGIN = 1.3


@pytest.mark.parametrize("seed", [0, 1])
def test_the_smallest_pack_learns_to_outlive_the_baselines(seed, tmp_path):
    result = run_training(RunOptions(pack=PACK, seed=seed, agent_steps=AGENT_STEPS, out=tmp_path))
    model = HamletModel.load(sorted((result.run_dir / "checkpoints").glob("model_ep*.pt"))[-1])
    layout, pack = model.metadata["affordance_layout"], load_pack(PACK)
    scores = {s.policy: s.mean_survival for s in evaluate(model, pack, episodes=100, layout=layout)}
    untrained = HamletModel.from_spec(pack.directory / "brain.yaml", seed=seed)
    before = evaluate(untrained, pack, episodes=100, layout=layout, baselines=False)
    assert scores["greedy"] > MARGIN * scores["always-WAIT"], scores
    assert scores["greedy"] > before[0].mean_survival, (scores, before[0].mean_survival)

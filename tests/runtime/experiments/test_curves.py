"""Learning curves: each run on one grid, the IQM over runs, stage changes, training blocks."""

from __future__ import annotations

import numpy as np
import pytest

from hamlet.runtime.experiments.curves import BLOCKS, POINTS, learning_curves
from hamlet.runtime.experiments.groups import find_runs, group_runs
from hamlet.schemas.errors import RunError, UsageError

from .conftest import make_run


def _curves(paths, **options):
    return learning_curves(group_runs(find_runs(paths)), reps=200, **options)


def test_runs_are_interpolated_onto_one_grid_over_the_range_every_finished_run_covers(tmp_path):
    # evaluations every 50 episodes; 2 and 4 agent steps per episode: run a is at
    # 0 / 100 / 200 agent steps, run b at 0 / 200 / 400 (both survive 0, 10, 20)
    a = make_run(tmp_path / "a", survival=[0, 10, 20], steps_per_episode=2)
    b = make_run(tmp_path / "b", survival=[0, 10, 20], steps_per_episode=4, seed=1)
    c = make_run(tmp_path / "c", survival=[0, 30], steps_per_episode=2, seed=2, status="running")
    ((curve,),) = [p.curves for p in _curves([a, b]).panels]
    assert curve.x.size == POINTS and (curve.x[0], curve.x[-1]) == (0, 200)
    # at 100 agent steps a has 10, b 5 (halfway to 10); at 200: 20 and 10. Two runs: the
    # IQM is their mean
    assert np.interp([100, 200], curve.x, curve.iqm) == pytest.approx([7.5, 15.0])
    assert curve.runs == 2 and np.all(curve.low <= curve.iqm) and np.all(curve.iqm <= curve.high)

    # an unfinished run counts as far as it got (100 agent steps) and leaves the range be
    ((curve,),) = [p.curves for p in _curves([a, b, c]).panels]
    assert (curve.x[0], curve.x[-1]) == (0, 200)
    # up to 100, a is x/10, b x/20 and c 3x/10: 3 runs, none dropped, mean 0.15x; at 200 a
    # and b only: 15
    below = curve.x <= 100
    assert curve.iqm[below] == pytest.approx(0.15 * curve.x[below])
    assert curve.iqm[-1] == pytest.approx(15.0)


def test_episodes_and_training_time_are_x_axes_too(tmp_path):
    run = make_run(tmp_path / "a", survival=[0, 10, 20], every=50)
    (panel,) = _curves([run], x="episodes").panels
    assert panel.curves[0].x.tolist() == [0, 50, 100]  # one run: its own points
    (panel,) = _curves([run], x="wall_time").panels
    assert panel.curves[0].x.tolist() == [0, 50, 100]


def test_training_figures_are_averaged_over_blocks_of_episodes(tmp_path):
    run = make_run(tmp_path / "a", episodes=2 * BLOCKS)
    loss, epsilon = _curves([run], x="episodes", metrics=["loss", "epsilon"]).panels
    curve = loss.curves[0]
    assert curve.x.size == BLOCKS
    # the first block holds episodes 0 and 1 (loss 1 and 1/2) and ends at 2 episodes done
    assert (curve.x[0], curve.iqm[0]) == (2, pytest.approx(0.75))
    assert curve.x[-1] == 2 * BLOCKS
    assert epsilon.metric.label == "epsilon" and epsilon.curves[0].iqm[0] < 1


def test_training_time_of_episodes_counts_on_from_the_evaluation_before_them(tmp_path):
    # make_run's episode e ends at wall-clock 1001 + e, 1 s after the evaluation at 1000
    # (0 s of training), so its training time is e + 1, as its episodes-done count is
    run = make_run(tmp_path / "a", episodes=50)
    by_time = _curves([run], x="wall_time", metrics=["train_survival"]).panels[0].curves[0]
    by_count = _curves([run], x="episodes", metrics=["train_survival"]).panels[0].curves[0]
    assert by_time.x.tolist() == by_count.x.tolist()


def test_stage_changes_are_marked_at_the_median_first_entry_over_a_groups_runs(tmp_path):
    runs = [
        make_run(tmp_path / f"r{seed}", seed=seed, episodes=60, transitions=[(9 + 10 * seed, 2)])
        for seed in range(3)
    ]
    # stage 2 entered after episodes 10, 20 and 30 (20 agent steps each)
    changes = _curves(runs, x="episodes").stage_changes
    assert [(c.group, c.stage, c.x) for c in changes] == [("A", 2, 20.0)]
    assert _curves(runs).stage_changes[0].x == 20.0 * 20


def test_the_stage_panel_shows_the_stage_of_each_block(tmp_path):
    run = make_run(tmp_path / "a", episodes=10, transitions=[(4, 2)])
    (panel,) = _curves([run], x="episodes", metrics=["stage"]).panels
    assert panel.curves[0].iqm.tolist() == [1, 1, 1, 1, 2, 2, 2, 2, 2, 2]


def test_a_metric_no_run_has_is_e310_with_what_to_do(tmp_path):
    run = make_run(tmp_path / "a", survival=[])
    with pytest.raises(RunError) as raised:
        _curves([run])
    assert raised.value.code == "E310" and "--metric train_survival" in raised.value.hint
    with pytest.raises(RunError):
        _curves([run], metrics=["loss"])  # no episodes either


@pytest.mark.parametrize(("option", "value"), [("x", "steps"), ("metrics", ["reward"])])
def test_unknown_axes_are_e300(tmp_path, option, value):
    run = make_run(tmp_path / "a")
    with pytest.raises(UsageError) as raised:
        _curves([run], **{option: value})
    assert raised.value.code == "E300"

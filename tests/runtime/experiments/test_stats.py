"""IQM, stratified bootstrap intervals and the probability of improvement, against values
worked out by hand (in the comments) and against the properties they must have."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hamlet.runtime.experiments import stats
from hamlet.runtime.experiments.stats import (
    Estimate,
    curve_estimate,
    improvement_estimate,
    improvement_replicates,
    iqm,
    iqm_along_last_axis,
    iqm_estimate,
    iqm_replicates,
    probability_of_improvement,
)
from hamlet.schemas.errors import UsageError

scores = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=12)
deterministic = settings(derandomize=True, deadline=None, max_examples=50)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([7.0], 7.0),
        ([1.0, 2.0, 3.0], 2.0),  # n // 4 = 0: nothing dropped, the plain mean
        ([5.0, 1.0, 4.0, 2.0, 3.0], 3.0),  # sorted 1 2 3 4 5, drop 1 each end: (2+3+4)/3
        ([0.0, 10.0, 1.0, 2.0, 3.0, 50.0], 4.0),  # 0 1 2 3 10 50, drop 1: (1+2+3+10)/4
        ([1, 2, 3, 4, 5, 6, 7, 100], 4.5),  # drop 2 each end: (3+4+5+6)/4
        ([9, 1, 8, 2, 7, 3, 6, 4, 5, 0], 4.5),  # 0..9, drop 2 each end: (2+...+7)/6
    ],
)
def test_iqm_drops_n_over_4_values_at_each_end_as_scipy_trim_mean_does(values, expected):
    assert iqm(values) == pytest.approx(expected)


def test_iqm_of_runs_by_tasks_pools_every_value():
    # 8 values 1 2 3 4 5 7 8 9: drop 2 at each end, (3+4+5+7)/4
    assert iqm([[5.0, 1.0], [4.0, 2.0], [3.0, 9.0], [7.0, 8.0]]) == pytest.approx(4.75)


def test_iqm_leaves_out_missing_values():
    rows = np.array([[1.0, np.nan, 2.0, 3.0, 100.0, np.nan], [np.nan] * 6])
    # row 0: 1 2 3 100, drop one at each end: (2+3)/2; row 1: nothing there
    result = iqm_along_last_axis(rows)
    assert result[0] == pytest.approx(2.5) and np.isnan(result[1])


@deterministic
@given(scores)
def test_iqm_lies_between_the_smallest_and_largest_value(values):
    assert min(values) - 1e-6 <= iqm(values) <= max(values) + 1e-6


@deterministic
@given(st.floats(-1e6, 1e6), st.integers(1, 20))
def test_iqm_of_a_constant_is_the_constant(value, n):
    assert iqm([value] * n) == pytest.approx(value)
    assert iqm_estimate([value] * n, reps=50) == Estimate(
        pytest.approx(value), pytest.approx(value), pytest.approx(value)
    )


def test_bootstrap_of_two_runs_by_hand():
    # a resample of [0, 1] holds two 0s, one of each or two 1s (1/4, 1/2, 1/4); n=2 drops
    # nothing, so its IQM is 0, 0.5 or 1
    replicates = iqm_replicates([0.0, 1.0], reps=8000, seed=3)
    values, counts = np.unique(replicates, return_counts=True)
    assert values.tolist() == [0.0, 0.5, 1.0]
    assert counts / 8000 == pytest.approx([0.25, 0.5, 0.25], abs=0.02)
    assert iqm_estimate([0.0, 1.0], seed=3) == Estimate(0.5, 0.0, 1.0)


def test_the_bootstrap_resamples_runs_within_each_task():
    # task 0 holds 0 and 1, task 1 holds 10 and 10. A stratified resample keeps two values
    # of each task: a, b from {0, 1} and 10, 10; sorted [min, max, 10, 10] without its ends
    # leaves (max(a, b) + 10) / 2: 5 when both are 0 (1/4), else 5.5. Pooling the runs
    # across tasks could draw [0, 0, 0, 10] and give 0.
    replicates = iqm_replicates([[0.0, 10.0], [1.0, 10.0]], reps=8000, seed=0)
    values, counts = np.unique(replicates, return_counts=True)
    assert values.tolist() == [5.0, 5.5]
    assert counts / 8000 == pytest.approx([0.25, 0.75], abs=0.02)


def test_bootstrap_in_blocks_keeps_its_distribution(monkeypatch):
    monkeypatch.setattr(stats, "BLOCK_VALUES", 4)  # one or two resamples per block
    replicates = iqm_replicates([[0.0, 10.0], [1.0, 10.0]], reps=999, seed=0)
    assert replicates.shape == (999,) and set(replicates.tolist()) == {5.0, 5.5}
    assert improvement_replicates([0.0, 1.0], [0.5], reps=999).shape == (999,)


def test_intervals_are_reproducible_with_their_seed():
    data = np.random.default_rng(0).normal(size=7)
    assert iqm_estimate(data, seed=1) == iqm_estimate(data, seed=1)
    assert iqm_estimate(data, seed=1) != iqm_estimate(data, seed=2)


@deterministic
@given(st.floats(-100, 100), st.lists(st.floats(0.01, 100), min_size=1, max_size=6))
def test_the_interval_of_symmetric_scores_contains_their_iqm(centre, offsets):
    # reflecting every resample through the centre maps the bootstrap onto itself, so the
    # percentile interval is symmetric about the IQM
    values = [centre + d for d in offsets] + [centre - d for d in offsets]
    estimate = iqm_estimate(values, reps=400)
    assert estimate.low - 1e-9 <= estimate.value <= estimate.high + 1e-9
    assert estimate.value == pytest.approx(centre, abs=1e-6)


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        ([1.0, 2.0, 3.0], [2.0, 2.0], 0.5),  # pairs 0 0 / 1/2 1/2 / 1 1: 3 of 6
        ([2.0, 3.0], [1.0, 3.0], 0.625),  # 2>1: 1, 2<3: 0, 3>1: 1, 3=3: 1/2 -> 2.5 / 4
        ([5.0, 6.0], [1.0, 2.0, 3.0], 1.0),
        ([1.0], [1.0], 0.5),
        ([[1.0, 0.0], [2.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]], 0.5),  # task 0: 1, task 1: 0
    ],
)
def test_probability_of_improvement_by_hand(x, y, expected):
    assert probability_of_improvement(x, y) == pytest.approx(expected)


@deterministic
@given(scores, scores)
def test_x_beats_y_or_y_beats_x(x, y):
    assert probability_of_improvement(x, y) + probability_of_improvement(y, x) == pytest.approx(1)


def test_probability_of_improvement_bootstrap_by_hand():
    # y is one run at 0.5; a resample of x = [0, 1] beats it in none, half or all pairs
    # (1/4, 1/2, 1/4)
    replicates = improvement_replicates([0.0, 1.0], [0.5], reps=8000, seed=0)
    values, counts = np.unique(replicates, return_counts=True)
    assert values.tolist() == [0.0, 0.5, 1.0]
    assert counts / 8000 == pytest.approx([0.25, 0.5, 0.25], abs=0.02)
    assert improvement_estimate([0.0, 1.0], [0.5]) == Estimate(0.5, 0.0, 1.0)
    assert improvement_estimate([5.0, 6.0], [1.0, 2.0]) == Estimate(1.0, 1.0, 1.0)


def test_resampled_probabilities_average_to_the_estimate():
    # every resampled pair is a uniform pair of the original runs, so the mean of the
    # replicates is P(X > Y) itself
    rng = np.random.default_rng(0)
    x, y = rng.normal(0.3, 1, size=6), rng.normal(0, 1, size=5)
    replicates = improvement_replicates(x, y, reps=20000, seed=1)
    assert replicates.mean() == pytest.approx(probability_of_improvement(x, y), abs=0.01)


def test_curve_estimate_takes_the_iqm_at_each_point_over_the_runs_that_reach_it():
    values = np.array([[1.0, 4.0, np.nan], [2.0, 4.0, np.nan], [3.0, 10.0, 7.0]])
    middle, low, high = curve_estimate(values, reps=500)
    assert middle[:2] == pytest.approx([2.0, 6.0]) and middle[2] == 7.0
    assert np.all(low <= middle) and np.all(middle <= high)
    assert (low[2], high[2]) == (7.0, 7.0)


@pytest.mark.parametrize(
    ("call", "flag"),
    [
        (lambda: iqm_estimate([1.0, 2.0], reps=0), "--reps"),
        (lambda: iqm_estimate([1.0, 2.0], reps=stats.MAX_REPS + 1), "--reps"),
        (lambda: iqm_estimate([1.0, 2.0], reps=2.5), "--reps"),
        (lambda: iqm_estimate([1.0, 2.0], confidence=1.0), "confidence"),
        (lambda: iqm([]), "scores"),
        (lambda: iqm([1.0, float("inf")]), "scores"),
        (lambda: iqm(["a"]), "scores"),
        (lambda: probability_of_improvement([[1.0, 2.0]], [1.0]), "y"),
    ],
)
def test_arguments_that_cannot_work_are_e300(call, flag):
    with pytest.raises(UsageError) as raised:
        call()
    assert raised.value.code == "E300" and raised.value.path == flag


def test_docstring_examples():
    result = doctest.testmod(stats)
    assert result.attempted > 0 and result.failed == 0

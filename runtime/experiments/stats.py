"""Statistics over seeds, as Agarwal et al. (2021) recommend in "Deep Reinforcement Learning
at the Edge of the Statistical Precipice", computed as their library rliable computes them.

One training run is one draw of a noisy process, and a student can afford a handful of
seeds. So a score is never a single number:

* the **IQM** (interquartile mean) of the runs' scores: the mean of the middle half, which
  one lucky or broken seed cannot drag far, yet which uses more runs than the median;
* its **95% confidence interval** from a *stratified bootstrap*: resample the runs with
  replacement within each task (stratum), recompute the IQM, and take the 2.5th and
  97.5th percentiles of those IQMs (the percentile interval);
* the **probability of improvement** P(X > Y): the chance that a run of X scores above a
  run of Y, a tie counting one half (the Mann-Whitney U statistic over the n*m pairs),
  averaged over tasks, with a bootstrap interval that resamples the runs of X and of Y
  independently within each task.

Scores are arrays of shape ``(runs,)`` (one task) or ``(runs, tasks)``.

The IQM is rliable's ``scipy.stats.trim_mean(scores, 0.25)`` over all the values: sort
the n values, drop ``n // 4`` of them at each end, average the rest. It has **no**
fractional weights at the quartiles, so the middle is not always exactly half: 3 seeds
average all 3 values, 5 seeds the middle 3, 8 seeds the middle 4. The numbers therefore
match rliable's and the paper's. NaN marks a missing value (a run that has not reached
that point of a learning curve) and is left out.

>>> iqm([1.0, 2.0, 3.0, 4.0, 100.0])  # 1 and 100 dropped
3.0
>>> probability_of_improvement([2.0, 3.0], [1.0, 3.0])  # pairs: 1, 0, 1, 1/2
0.625
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hamlet.schemas.errors import UsageError

DEFAULT_REPS = 2000
"""Bootstrap resamples per interval: enough for stable 2.5th/97.5th percentiles at the
precision a table shows."""
MAX_REPS = 100_000
BLOCK_VALUES = 2**22
"""Resampled values held at once (32 MiB of float64): larger jobs run in blocks, so the
memory they take is bounded whatever ``reps`` and the number of runs are."""

Scores = Sequence[float] | Sequence[Sequence[float]] | np.ndarray


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its bootstrap confidence interval."""

    value: float
    low: float
    high: float
    confidence: float = 0.95

    def to_json(self) -> dict[str, float | list[float]]:
        return {"value": self.value, "ci": [self.low, self.high], "confidence": self.confidence}


def iqm(scores: Scores) -> float:
    """The interquartile mean of all the values (see the module's docstring).

    >>> iqm([[5.0, 1.0], [4.0, 2.0], [3.0, 9.0], [7.0, 8.0]])  # 8 values: the middle 4
    4.75
    """
    values = _values(scores, "scores").reshape(1, -1)
    return float(iqm_along_last_axis(values)[0])


def iqm_along_last_axis(values: np.ndarray) -> np.ndarray:
    """The IQM of each row of ``values`` along its last axis (NaN left out; a row of
    NaNs gives NaN): the vectorised form under every function here."""
    ordered = np.sort(values, axis=-1)  # NaN sorts last
    count = np.sum(~np.isnan(ordered), axis=-1, keepdims=True)
    cut = count // 4
    position = np.arange(ordered.shape[-1])
    kept = (position >= cut) & (position < count - cut)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept, ordered, 0.0).sum(axis=-1) / kept.sum(axis=-1)


def iqm_replicates(scores: Scores, *, reps: int = DEFAULT_REPS, seed: int = 0) -> np.ndarray:
    """The IQMs of ``reps`` stratified bootstrap resamples of ``scores`` (runs resampled
    with replacement within each task), shape ``(reps,)``."""
    values = _matrix(scores, "scores")
    return _resampled_iqms(values[..., np.newaxis], check_reps(reps), np.random.default_rng(seed))[
        :, 0
    ]


def iqm_estimate(
    scores: Scores, *, reps: int = DEFAULT_REPS, confidence: float = 0.95, seed: int = 0
) -> Estimate:
    """The IQM of ``scores`` with its stratified bootstrap percentile interval.

    >>> iqm_estimate([3.0, 3.0, 3.0])
    Estimate(value=3.0, low=3.0, high=3.0, confidence=0.95)
    """
    level = _confidence(confidence)
    low, high = _interval(iqm_replicates(scores, reps=reps, seed=seed), level)
    return Estimate(iqm(scores), float(low), float(high), level)


def curve_estimate(
    values: np.ndarray, *, reps: int = DEFAULT_REPS, confidence: float = 0.95, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IQM over runs at every point of a learning curve, with its bootstrap band.

    ``values`` has shape ``(runs, points)`` (NaN where a run has no value). One resample
    of the runs serves every point, as a resample of seeds is a resample of whole
    curves. Returns ``(iqm, low, high)``, each of shape ``(points,)``.
    """
    values = _values(values, "values")
    if values.ndim != 2:
        raise UsageError.option("values", f"of shape {values.shape}", "an array (runs, points)")
    level = _confidence(confidence)
    replicates = _resampled_iqms(
        values[:, np.newaxis, :], check_reps(reps), np.random.default_rng(seed)
    )
    low, high = _interval(replicates, level)
    return iqm_along_last_axis(values.T), low, high


def probability_of_improvement(x: Scores, y: Scores) -> float:
    """P(X > Y): how often a run of X scores above a run of Y, ties counting one half,
    averaged over tasks.

    >>> probability_of_improvement([1.0, 2.0, 3.0], [2.0, 2.0])  # (0 + 0 + 1/2 + 1/2 + 1 + 1) / 6
    0.5
    """
    kernel = _pair_kernel(_matrix(x, "x"), _matrix(y, "y"))
    return float(kernel.mean(axis=(1, 2)).mean())


def improvement_replicates(
    x: Scores, y: Scores, *, reps: int = DEFAULT_REPS, seed: int = 0
) -> np.ndarray:
    """P(X > Y) of ``reps`` bootstrap resamples (the runs of X and of Y resampled
    independently, within each task), shape ``(reps,)``."""
    kernel = _pair_kernel(_matrix(x, "x"), _matrix(y, "y"))
    tasks, n, m = kernel.shape
    rng = np.random.default_rng(seed)
    reps = check_reps(reps)
    # A resample is a count per run; P is then a quadratic form of the two counts with the
    # kernel of the original pairs, so no resampled scores are ever built.
    out = np.empty(reps)
    block = max(1, BLOCK_VALUES // (tasks * (n + m) * 2))
    for start in range(0, reps, block):
        size = min(block, reps - start)
        counts_x = rng.multinomial(n, np.full(n, 1 / n), size=(size, tasks))
        counts_y = rng.multinomial(m, np.full(m, 1 / m), size=(size, tasks))
        pairs = np.einsum("rti,tij,rtj->rt", counts_x, kernel, counts_y) / (n * m)
        out[start : start + size] = pairs.mean(axis=1)
    return out


def improvement_estimate(
    x: Scores, y: Scores, *, reps: int = DEFAULT_REPS, confidence: float = 0.95, seed: int = 0
) -> Estimate:
    """P(X > Y) with its bootstrap percentile interval."""
    level = _confidence(confidence)
    low, high = _interval(improvement_replicates(x, y, reps=reps, seed=seed), level)
    return Estimate(probability_of_improvement(x, y), float(low), float(high), level)


# --- the pieces -----------------------------------------------------------------------


def _resampled_iqms(values: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """IQMs of ``reps`` stratified resamples of ``values`` (runs, tasks, points): the runs
    are drawn within each task, the IQM taken over runs and tasks; ``(reps, points)``."""
    runs, tasks, points = values.shape
    out = np.empty((reps, points))
    block = max(1, BLOCK_VALUES // values.size)
    for start in range(0, reps, block):
        size = min(block, reps - start)
        picks = rng.integers(0, runs, size=(size, runs, tasks))
        drawn = values[picks, np.arange(tasks)]  # (size, runs, tasks, points)
        pooled = drawn.reshape(size, runs * tasks, points).swapaxes(1, 2)
        out[start : start + size] = iqm_along_last_axis(pooled)
    return out


def _pair_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per task, 1 where x_i > y_j, 1/2 where they tie, 0 otherwise: (tasks, n, m)."""
    if x.shape[1] != y.shape[1]:
        raise UsageError.option("y", f"with {y.shape[1]} task(s)", f"{x.shape[1]}, as x has")
    xt, yt = x.T[:, :, np.newaxis], y.T[:, np.newaxis, :]
    return (xt > yt) + 0.5 * (xt == yt)


def _interval(replicates: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    tail = 100 * (1 - confidence) / 2
    with np.errstate(invalid="ignore"):
        low, high = np.nanpercentile(replicates, [tail, 100 - tail], axis=0)
    return low, high


def _values(scores: Scores | np.ndarray, name: str) -> np.ndarray:
    try:
        values = np.asarray(scores, dtype=float)
    except (TypeError, ValueError):
        raise UsageError.option(name, "(not numbers)", "an array of numbers") from None
    if values.size == 0:
        raise UsageError.option(name, "(empty)", "at least one score")
    if np.isinf(values).any():
        raise UsageError.option(name, "(with an infinite value)", "finite scores")
    return values


def _matrix(scores: Scores, name: str) -> np.ndarray:
    """``scores`` as ``(runs, tasks)``."""
    values = _values(scores, name)
    if values.ndim == 1:
        return values[:, np.newaxis]
    if values.ndim != 2:
        raise UsageError.option(
            name, f"of shape {values.shape}", "an array (runs,) or (runs, tasks)"
        )
    return values


def check_reps(reps: int) -> int:
    """``reps`` (E300 unless a whole number from 1 to MAX_REPS)."""
    if (
        isinstance(reps, bool)
        or not isinstance(reps, int | np.integer)
        or not 1 <= reps <= MAX_REPS
    ):
        raise UsageError.option("--reps", reps, f"a whole number of resamples, 1 to {MAX_REPS}")
    return int(reps)


def _confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise UsageError.option("confidence", confidence, "a level between 0 and 1, e.g. 0.95")
    return float(confidence)

"""A run directory's life: training in it, its metrics database, the progress display,
and evaluating what it trained.

Modules: :mod:`.runner` (``hamlet run``: the training loop around the trainer, with
checkpoints, recordings and the stream), :mod:`.directory` (making and reading run
directories), :mod:`.metrics` (``metrics.sqlite``), :mod:`.progress` (the live progress
line) and :mod:`.evaluate` (``hamlet eval``: greedy survival beside baselines).

Imports: learning, telemetry, world, model and the helpers; never the viewer or the CLI.
"""

from .directory import newest_model
from .evaluate import Evaluation, Score, evaluate, evaluate_checkpoint, format_scores
from .metrics import MetricsDB, read_episodes
from .progress import Progress
from .runner import RunOptions, RunResult, run_in_terminal, run_training

__all__ = [
    "Evaluation",
    "MetricsDB",
    "Progress",
    "RunOptions",
    "RunResult",
    "Score",
    "evaluate",
    "evaluate_checkpoint",
    "format_scores",
    "newest_model",
    "read_episodes",
    "run_in_terminal",
    "run_training",
]

"""A run directory's life: training in it, its metrics database, the progress display,
and evaluating what it trained.

Modules: :mod:`.plan` (every option, the pack, the brain and a resumed run checked
before anything is written), :mod:`.runner` (``hamlet run``: the training loop around
the trainer, with recordings and the stream), :mod:`.checkpoints` (when a run saves, and
writing checkpoints beside training), :mod:`.directory` (making and reading run
directories), :mod:`.metrics` (``metrics.sqlite``), :mod:`.progress` (the live progress
line), :mod:`.recordings` (a run's recorded episodes, read back) and :mod:`.evaluate`
(``hamlet eval``: greedy survival beside baselines).

Imports: learning, telemetry, world, model and the helpers; never the viewer or the CLI.
"""

from .directory import RunDirectory, newest_model
from .evaluate import Evaluation, Score, evaluate, evaluate_checkpoint, format_scores
from .metrics import MetricsDB, read_episodes, read_evaluations, read_state, read_throughput
from .plan import BudgetSpent, RunOptions, RunPlan, plan_run
from .progress import Progress
from .recordings import list_recordings, load_recording, recording_file
from .runner import RunResult, run_in_terminal, run_training, train

__all__ = [
    "BudgetSpent",
    "Evaluation",
    "MetricsDB",
    "Progress",
    "RunDirectory",
    "RunOptions",
    "RunPlan",
    "RunResult",
    "Score",
    "evaluate",
    "evaluate_checkpoint",
    "format_scores",
    "list_recordings",
    "load_recording",
    "newest_model",
    "plan_run",
    "read_episodes",
    "read_evaluations",
    "read_state",
    "read_throughput",
    "recording_file",
    "run_in_terminal",
    "run_training",
    "train",
]

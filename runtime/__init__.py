"""The runtime: everything after the compiler, in rooms that import one way.

Rooms, lowest first; a room imports only the rooms to its left (and the compiler and
the schemas), never one to its right. ``tests/test_architecture.py`` reads the order
and enforces it on every module's imports::

    files, text -> export -> model -> world -> telemetry -> learning -> runs -> experiments
    -> viewer -> cli

* ``files``, ``text``: two small shared helpers (atomic file writes; text tables).
* ``export/``: ONNX, TorchScript, safetensors and Python source, and their verification.
* ``model/``: ``HamletModel`` (predict), action selection, checkpoint formats, loading,
  the original system's formats, migration, describing a checkpoint.
* ``world/``: the town, vectorized over agents; the Gymnasium adapter.
* ``telemetry/``: what a run emits while it trains: episode recording, recordings on
  disk, the stream server.
* ``learning/``: replay, the DQN family, RND, exploration, curriculum, the trainer.
* ``runs/``: a run directory's life: the runner, its metrics database, the progress
  display, evaluation.
* ``experiments/``: many runs: sweeps (local workers or Ray), statistics over seeds,
  comparisons and learning curves.
* ``viewer/``: the Textual app, and watching a stream, a checkpoint or a replay.
* ``cli``: the ``hamlet`` command: parse arguments, call one library function.

Inside a room, modules import each other relatively (``from .checkpoint import``);
across rooms, absolutely (``from hamlet.runtime.model import HamletModel``).

>>> from hamlet.runtime import HamletModel
>>> HamletModel.from_spec("simple_q", world="L1_full_observability").num_actions
6
"""

from hamlet.schemas.errors import CheckpointError, ExportError

from .model import NO_ACTION, HamletModel, HashMismatchWarning, StatefulModel, select_actions

__all__ = [
    "NO_ACTION",
    "CheckpointError",
    "ExportError",
    "HamletModel",
    "HashMismatchWarning",
    "StatefulModel",
    "select_actions",
]

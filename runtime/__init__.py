"""The runtime: models and checkpoints, export, the world, learning, recording, the viewer
and the ``hamlet`` command line. It builds on :mod:`hamlet.compiler` and
:mod:`hamlet.schemas`, never the other way round.

>>> from hamlet.runtime import HamletModel
>>> HamletModel.from_spec("simple_q", world="L1_full_observability").num_actions
6
"""

from hamlet.schemas.errors import CheckpointError, ExportError

from .actions import NO_ACTION, select_actions
from .loading import HashMismatchWarning
from .model import HamletModel, StatefulModel

__all__ = [
    "NO_ACTION",
    "CheckpointError",
    "ExportError",
    "HamletModel",
    "HashMismatchWarning",
    "StatefulModel",
    "select_actions",
]

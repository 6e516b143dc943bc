"""A brain with its weights, as a user holds it: :class:`HamletModel` and the files it
lives in.

Modules: :mod:`.hamlet_model` (``HamletModel``, ``StatefulModel``), :mod:`.actions`
(greedy, epsilon-greedy and random valid actions), :mod:`.checkpoint` (the
``inference_v1`` and ``training_v2`` formats), :mod:`.loading` (any known file to a
compiled brain with its weights), :mod:`.legacy` (the original system's formats and
bare state_dicts; :mod:`.recovery` reads a spec off bare weights), :mod:`.migrate`
(inference checkpoints from training ones) and
:mod:`.describe` (what ``hamlet inspect`` shows). Nothing in a file is trusted:
:mod:`.reading` opens it safely, :mod:`.entries` and :mod:`.metadata` check its
entries, :mod:`.brains` its spec against its hash, :mod:`.tensors` its weights
against their digest and the network; :mod:`.notices` are the warnings of a load.

Imports: the compiler, the schemas, :mod:`hamlet.runtime.export` and
:mod:`hamlet.runtime.files`; nothing of the world, training or runs.
"""

from .actions import NO_ACTION, random_valid_actions, select_actions
from .hamlet_model import HamletModel, StatefulModel
from .metadata import check_affordance_layout
from .notices import HashMismatchWarning, WeightsConvertedWarning

__all__ = [
    "NO_ACTION",
    "HamletModel",
    "HashMismatchWarning",
    "StatefulModel",
    "WeightsConvertedWarning",
    "check_affordance_layout",
    "random_valid_actions",
    "select_actions",
]

"""The brain compiler: ``brain.yaml`` -> validated spec -> graph -> resolved sizes ->
generated PyTorch source -> module.

>>> from hamlet.compiler import compile_brain
>>> from hamlet.schemas import ObservationLayout
>>> brain = compile_brain("simple_q", layout=ObservationLayout.from_shapes({"obs": (36,)}, 6))
>>> brain.spec_hash.startswith("sha256:")
True
"""

from hamlet.schemas.errors import Diagnostic, SpecError

from .load import BrainSource, brain_from_data, load_brain
from .memory import DEFAULT_MAX_MEMORY
from .overridden_pack import pack_texts
from .pipeline import CompiledBrain, compile_brain, compile_resolved
from .resolve import ResolvedBrain, resolve_brain, spec_hash

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "BrainSource",
    "CompiledBrain",
    "Diagnostic",
    "ResolvedBrain",
    "SpecError",
    "brain_from_data",
    "compile_brain",
    "compile_resolved",
    "load_brain",
    "pack_texts",
    "resolve_brain",
    "spec_hash",
]

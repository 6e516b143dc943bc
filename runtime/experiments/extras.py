"""Optional parts of HAMLET, asked for by name when a command needs one: the ``plot``
extra (matplotlib, plotext) for pictures of learning curves, the ``cluster`` extra (Ray)
for sweeps on more than one machine."""

from __future__ import annotations

import importlib
from types import ModuleType

from hamlet.schemas.errors import Diagnostic, RunError


def require(module: str, extra: str, purpose: str, flag: str = "") -> ModuleType:
    """The optional ``module``, or E303 naming the extra that installs it (and the option
    ``flag`` that asked for it)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise RunError(
            Diagnostic(
                "E303",
                f"{purpose} needs {module}, which is not installed",
                hint=f"install the {extra} extra: pip install 'hamlet[{extra}]' (in a "
                f"checkout: pip install -e '.[{extra}]')",
                file="<command line>",
                path=flag,
            )
        ) from None

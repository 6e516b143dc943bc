"""Writing HAMLET's files safely: a file appears under its name only once it is whole.

A shared helper of the runtime's rooms (checkpoints, exports, recordings); it imports
nothing from them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomically(path: Path, write: Any) -> None:
    """Call ``write(handle)`` on a temporary file next to ``path``, then rename it into
    place; a crash part-way leaves any previous file untouched and no partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, before the rename)
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # Temporary files are private (0600); give the file the usual permissions.
        os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

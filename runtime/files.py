"""Writing HAMLET's files safely: a file appears under its name only once it is whole, and a
write that the system refuses (a full disk, a read-only folder) is a coded error.

A shared helper of the runtime's rooms (checkpoints, exports, recordings, run
directories); it imports nothing from them.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hamlet.schemas.errors import Diagnostic, StorageError

TEMPORARY_SUFFIX = ".tmp"
"""Temporary files of atomic writes are ``.<name>.<random>.tmp`` beside their target."""

_HINTS = {
    errno.ENOSPC: "free some disk space (or write elsewhere), then run again",
    errno.EDQUOT: "your disk quota is used up: free some space, then run again",
    errno.EFBIG: "the file is larger than this system allows (ulimit -f?); write elsewhere",
    errno.EROFS: "the folder is on a read-only file system: write somewhere else",
    errno.EACCES: "you may not write there: choose a folder you own, or fix its permissions",
    errno.EPERM: "you may not write there: choose a folder you own, or fix its permissions",
    # a file where the path needs a folder (mkdir says EEXIST, open says ENOTDIR)
    errno.ENOTDIR: "part of the path is a file, not a folder: choose another path",
    errno.EEXIST: "part of the path is a file, not a folder: choose another path",
    errno.EISDIR: "that is a folder: give the name of a file in it",
}


def write_atomically(path: Path, write: Callable[[Any], object]) -> None:
    """Call ``write(handle)`` on a temporary file next to ``path``, then rename it into
    place; a crash part-way leaves any previous file untouched and no partial one. A
    refused write raises :class:`~hamlet.schemas.errors.StorageError` (E313)."""
    with refused_writes(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, before the rename)
            dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, delete=False
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


def remove_temporary_files(folder: Path) -> list[Path]:
    """Delete what atomic writes interrupted by a kill left in ``folder``; returns them."""
    if not folder.is_dir():
        return []
    left = [p for p in folder.glob(f".*{TEMPORARY_SUFFIX}") if p.is_file()]
    for path in left:
        path.unlink(missing_ok=True)
    return left


@contextmanager
def refused_writes(path: Path | str) -> Iterator[None]:
    """Turn the operating system's refusal to write ``path`` (no space, no permission, a
    read-only file system, a file too large) into a :class:`StorageError` (E313)."""
    try:
        yield
    except OSError as error:
        if isinstance(error, StorageError) or error.errno not in _HINTS:
            raise
        raise storage_error(path, error.strerror or str(error), _HINTS[error.errno]) from None
    except sqlite3.OperationalError as error:
        text = str(error)
        if "disk is full" in text:
            raise storage_error(path, text, _HINTS[errno.ENOSPC]) from None
        if "readonly" in text or "read-only" in text:
            raise storage_error(path, text, _HINTS[errno.EROFS]) from None
        if "disk I/O error" in text:  # SQLite's word for any refused write (EFBIG, EIO, ...)
            hint = "the disk refused the write: it may be full, over a size limit (ulimit -f) "
            hint += "or failing; free space or write elsewhere"
            raise storage_error(path, text, hint) from None
        raise


def check_writable(folder: Path) -> None:
    """Raise E313 unless a file can be created in ``folder`` (tried for real: permissions
    alone do not tell, for root or on a read-only mount)."""
    with refused_writes(folder):
        tempfile.TemporaryFile(dir=folder).close()


def storage_error(path: Path | str, reason: str, hint: str) -> StorageError:
    return StorageError(
        Diagnostic("E313", f"could not write {path}: {reason}", hint=hint, file=str(path))
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""Checkpoint files as an attacker or a failing disk would make them: what ``torch.save``
cannot write (200,000-deep nesting, tuples nested as dict keys, negative shapes) is
patched into the pickle of a file it did write."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import torch

PLACEHOLDER = "CRAFTED_PLACEHOLDER"
"""Stands in the saved data where :func:`patch` puts the crafted pickle opcodes."""
SHAPE_MARK = 7919
"""The length of the tensor whose shape :func:`with_shape` rewrites."""


def deep_list(depth: int) -> bytes:
    """Pickle opcodes of ``[[[...]]]`` nested ``depth`` deep (made without recursion)."""
    return b"]" * depth + b"a" * (depth - 1)


def deep_dict(depth: int) -> bytes:
    """``{"k": {"k": ...}}`` nested ``depth`` deep."""
    return b"}" + b"X\x01\x00\x00\x00k}" * (depth - 1) + b"s" * (depth - 1)


def deep_tuple_key(depth: int) -> bytes:
    """``{((((),),),): 1}``: a key of tuples nested ``depth`` deep, which CPython hashes
    by recursing in C (a process crash, not a RecursionError, when deep enough)."""
    return b"})" + b"\x85" * depth + b"K\x01s"


def cyclic_list() -> bytes:
    """A list that contains itself."""
    return b"]q\xc8h\xc8a"  # EMPTY_LIST, BINPUT 200, BINGET 200, APPEND


def save_patched(data: Any, path: Path, opcodes: bytes) -> Path:
    """``torch.save(data)``, with the string :data:`PLACEHOLDER` in it replaced by ``opcodes``."""
    buffer = io.BytesIO()
    torch.save(data, buffer)
    marker = b"X" + len(PLACEHOLDER).to_bytes(4, "little") + PLACEHOLDER.encode()
    return _rewrite_pickle(buffer.getvalue(), path, lambda pickle: pickle.replace(marker, opcodes))


def with_shape(data: Any, path: Path, shape_opcodes: bytes) -> Path:
    """``torch.save(data)``, where ``data`` holds a ``torch.zeros(SHAPE_MARK)``, with
    that tensor's shape tuple replaced by ``shape_opcodes`` (e.g. ``b"J\\xff\\xff\\xff\\xff\\x85"``
    for ``(-1,)``)."""
    buffer = io.BytesIO()
    torch.save(data, buffer)
    size = b"M" + SHAPE_MARK.to_bytes(2, "little") + b"\x85"

    def patch(pickle: bytes) -> bytes:
        at = pickle.rindex(size)  # the shape comes after the storage's element count
        return pickle[:at] + shape_opcodes + pickle[at + len(size) :]

    return _rewrite_pickle(buffer.getvalue(), path, patch)


def _rewrite_pickle(archive: bytes, path: Path, patch: Any) -> Path:
    source = zipfile.ZipFile(io.BytesIO(archive))
    with zipfile.ZipFile(path, "w") as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename.endswith("data.pkl"):
                patched = patch(content)
                assert patched != content, "nothing to patch"
                content = patched
            target.writestr(entry.filename, content)
    return path


def stored_record(path: Path) -> tuple[int, int]:
    """(offset, size) in the file of the first tensor's bytes (``archive/data/0``)."""
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        entry = next(e for e in archive.infolist() if "/data/" in e.filename)
    offset = entry.header_offset
    name = int.from_bytes(raw[offset + 26 : offset + 28], "little")
    extra = int.from_bytes(raw[offset + 28 : offset + 30], "little")
    return offset + 30 + name + extra, entry.file_size

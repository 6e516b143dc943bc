"""Reading a checkpoint file safely: ``torch.load`` with ``weights_only=True``, and
only after the file has been looked at.

Before anything is unpickled: the path must be a regular file (not a folder, a
symbolic link loop or a device), not empty, and, when it is a zip archive (every
``torch.save`` since PyTorch 1.6), an archive that is whole and does not claim to
unpack to far more than its own size (a zip bomb would allocate it); and its pickle
must not nest tuples deeper than :data:`MAX_TUPLE_DEPTH`. Whatever
``torch.load`` then raises is an E201 in our words, never PyTorch's advice to retry
with ``weights_only=False``.
"""

from __future__ import annotations

import errno
import io
import os
import pickle
import pickletools
import re
import stat
import warnings
import zipfile
from pathlib import Path
from typing import IO, Any

import torch

from hamlet.schemas.errors import CheckpointError, Diagnostic
from hamlet.schemas.source import display_path

MAX_TUPLE_DEPTH = 64
"""How deep tuples may nest in a file's pickle. Python hashes a tuple by recursing in C,
without a depth check, so a dict key of 200,000 nested tuples crashes the process
while it is unpickled: the nesting is measured before anything is unpickled."""
UNPACK_RATIO = 8
"""How much larger than the file its archive may unpack to (torch.save stores its
entries uncompressed, so a real checkpoint unpacks to its own size)."""
_EXPORT_HINTS = {
    "TorchScript": "load it with torch.jit.load; HAMLET reads the checkpoint it came from",
    "ONNX": "run it with onnxruntime; HAMLET reads the checkpoint it came from",
}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def file_name(path: str | Path) -> str:
    """How messages name ``path``: relative to the working directory when inside it."""
    try:
        return display_path(path)
    except RuntimeError:  # Path.resolve on a symbolic link loop (Python < 3.13)
        return str(path)


def check_file(path: str | Path) -> tuple[Path, str]:
    """``path`` and how messages name it, if it is a regular file that can be read;
    otherwise E200 saying what it is instead."""
    path = Path(path)
    name = file_name(path)
    try:
        info = path.stat()
    except OSError as exc:
        problem = {
            errno.ENOENT: "no such checkpoint",
            errno.ENOTDIR: "no such checkpoint",
            errno.ELOOP: "a symbolic link that leads round in a loop",
            errno.EACCES: "permission denied",
        }.get(exc.errno or 0, exc.strerror or "unreadable")
        message = f"{problem}: {name}" if problem == "no such checkpoint" else f"{name}: {problem}"
        raise _unreadable(name, message, "check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise _unreadable(
            name,
            f"{name} is a folder, not a checkpoint file",
            "give one of the files in it (model_epNNNNNN.pt)",
        )
    if not stat.S_ISREG(info.st_mode):
        raise _unreadable(name, f"{name} is not a regular file", "give a checkpoint file")
    if not os.access(path, os.R_OK):
        raise _unreadable(name, f"{name}: permission denied", "check the file's permissions")
    return path, name


def read_file(path: str | Path, device: str | torch.device = "cpu") -> Any:
    """``torch.load`` with ``weights_only=True``, every failure a :class:`CheckpointError`."""
    path, name = check_file(path)
    size = path.stat().st_size
    if size == 0:
        raise _corrupt(name, "it is empty, 0 bytes")
    with path.open("rb") as handle:
        start = handle.read(4)
    if path.suffix == ".onnx":
        export: str | None = "ONNX"
    elif start == b"PK\x03\x04":
        export = _check_archive(path, name, size)
    elif start.startswith(b"\x80"):  # a pickle: PyTorch's format before 1.6
        export = None
    else:
        raise _corrupt(
            name, "it does not begin like one; is it a text file?",
            hint="give the path of a .pt file a run or HamletModel.save wrote",
        )  # fmt: skip
    if export is not None:
        raise CheckpointError(
            Diagnostic(
                "E203",
                f"{name} is a {export} export, not a checkpoint",
                hint=_EXPORT_HINTS[export],
                file=name,
            )
        )
    _check_pickle(path, name, zipped=start == b"PK\x03\x04")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own advice (weights_only=False) is unsafe
            return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        detail = text.split("WeightsUnpickler error:", 1)[-1]
        if "GLOBAL" in detail or "global" in detail:
            raise CheckpointError(
                Diagnostic(
                    "E202",
                    f"{name} carries pickled Python objects that could run code when "
                    f"loaded ({_culprit(text)}); it was refused",
                    hint="only load files you trust; if you do trust it, re-save it as plain "
                    "tensors and dicts with the code that wrote it",
                    file=name,
                )
            ) from None
        raise _corrupt(name, _reason(text)) from None
    except Exception as exc:  # a crafted file can make the unpickler raise anything
        reason = _reason(str(exc))
        if not isinstance(exc, RuntimeError | OSError):  # a KeyError's text is just the key
            reason = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
        raise _corrupt(name, reason) from None


def _check_archive(path: Path, name: str, size: int) -> str | None:
    """Check a zip archive before torch reads it; 'TorchScript' if it is one."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise _corrupt(name, "its zip archive is cut short or damaged") from None
    except Exception as exc:  # a crafted directory can fail the parser anyhow
        raise _corrupt(name, f"its zip directory is damaged: {_reason(str(exc))}") from None
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > UNPACK_RATIO * size + (1 << 20):
        raise _corrupt(name, f"its archive claims to unpack to {unpacked:,} bytes from {size:,}")
    if any(entry.filename.split("/", 1)[-1].startswith("code/") for entry in entries):
        return "TorchScript"
    return None


def _check_pickle(path: Path, name: str, *, zipped: bool) -> None:
    """E201 if the file's pickles are malformed or nest tuples too deep."""
    try:
        if zipped:
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.endswith("data.pkl"):  # the size was checked with the archive
                        _tuple_depth(archive.read(member), 1)
        else:  # before 1.6: magic number, protocol, system info, data, storage keys
            with path.open("rb") as stream:
                _tuple_depth(stream, 5)
    except _TooDeep:
        raise _corrupt(name, f"its data nests tuples more than {MAX_TUPLE_DEPTH} deep") from None
    except Exception as exc:  # pickletools raises ValueError, EOFError, struct errors...
        raise _corrupt(name, f"its data is not a well-formed pickle: {_reason(str(exc))}") from None


class _TooDeep(Exception):
    pass


def _stack_effect(op: pickletools.OpcodeInfo) -> tuple[int, int, int]:
    """(pops to the last mark?, items popped besides, items pushed) of a pickle opcode."""
    before = op.stack_before
    if pickletools.markobject in before:
        return 1, before.index(pickletools.markobject), len(op.stack_after)
    return 0, len(before), len(op.stack_after)


def _codes(*names: str) -> set[str]:
    return {op.code for op in pickletools.opcodes if op.name in names}


_EFFECTS = {op.code: _stack_effect(op) for op in pickletools.opcodes}
_TUPLES = _codes("TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "EMPTY_TUPLE", "FROZENSET")
_GETS = _codes("GET", "BINGET", "LONG_BINGET")
_PUTS = _codes("PUT", "BINPUT", "LONG_BINPUT")
(_MARK,) = _codes("MARK")
(_MEMOIZE,) = _codes("MEMOIZE")
(_DUP,) = _codes("DUP")


def _tuple_depth(data: bytes | IO[bytes], pickles: int) -> None:
    """Run the stack effects of ``pickles`` pickles in ``data`` on depths instead of
    objects: a tuple is one deeper than its deepest item, anything else is 0 (a list
    or a dict cannot be hashed, so it ends a chain of hashing)."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    for _ in range(pickles):
        stack: list[int] = []
        marks: list[int] = []
        memo: dict[Any, int] = {}
        for op, arg, _pos in pickletools.genops(stream):
            code = op.code
            if code == _MARK:
                marks.append(len(stack))
                continue
            if code in _PUTS:
                memo[arg] = stack[-1]
                continue
            if code == _MEMOIZE:
                memo[len(memo)] = stack[-1]
                continue
            to_mark, pops, pushes = _EFFECTS[code]
            popped = []
            if to_mark:
                start = marks.pop()
                popped = stack[start:]
                del stack[start:]
            for _ in range(pops):
                popped.append(stack.pop())
            if code in _TUPLES:
                depth = 1 + max(popped, default=0)
                if depth > MAX_TUPLE_DEPTH:
                    raise _TooDeep
                stack.append(depth)
            elif code in _GETS:
                stack.append(memo.get(arg, 0))
            elif code == _DUP:
                stack += popped * 2
            elif pushes:
                stack += [0] * pushes


def _reason(text: str) -> str:
    """The useful line of a torch error: without its ANSI codes, and without its
    advice to load with ``weights_only=False``, which would let the file run code."""
    text = _ANSI.sub("", text)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[0] if lines else ""
    if "weights_only" in line or "Weights only" in line:
        return "it holds data that is not plain tensors, numbers, text, lists and dicts"
    if len(line) > 160:
        line = line[: line.find(". ") + 1] if 0 < line.find(". ") < 160 else line[:157] + "..."
    return line


def _culprit(message: str) -> str:
    """What the file asked for, in our words: PyTorch's own wording changes between
    versions ("Unsupported global: GLOBAL posix.system was not an allowed global",
    "Trying to load unsupported GLOBAL posix.system whose module posix is blocked")."""
    named = _GLOBAL.search(_ANSI.sub("", message))
    return f"it names {named[1]}" if named else "an unsupported object"


def _unreadable(name: str, message: str, hint: str) -> CheckpointError:
    return CheckpointError(Diagnostic("E200", message, hint=hint, file=name))


def _corrupt(
    name: str,
    reason: str,
    hint: str = "the file may be incomplete (an interrupted copy?); use another checkpoint",
) -> CheckpointError:
    return CheckpointError(
        Diagnostic(
            "E201",
            f"{name} is truncated or not a PyTorch checkpoint ({reason})",
            hint=hint,
            file=name,
        )
    )

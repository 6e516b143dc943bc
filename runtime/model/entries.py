"""The entries of a loaded checkpoint, each checked to have the type its format gives it.

What ``torch.load(weights_only=True)`` returns is plain data (dicts, lists, tuples,
numbers, strings, tensors), but nested as deep, as wide or as self-referring as a
crafted file makes it. :func:`check_plain` walks it without recursion and within
limits, so a file can neither exhaust the stack nor, through references shared many
times over, expand into far more work than it holds. Every problem is a
:class:`~hamlet.schemas.CheckpointError` that names the entry, such as
``metadata.pack`` or ``counters.episode``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from hamlet.schemas.errors import CheckpointError, Diagnostic

MAX_DEPTH = 32
"""How deep entries may nest (HAMLET's own go 6 deep at most)."""
MAX_ITEMS = 100_000
"""How many values a spec or metadata may hold, counting shared ones each time seen."""
MAX_STATE_ITEMS = 2_000_000
"""The same for the training states (replay, RNG, world), which hold mostly tensors."""
DAMAGED = "the file is damaged or was written by other software"
_SCALARS = (type(None), bool, int, float, str)
_OTHER_LEAVES = (complex, bytes, bytearray, torch.dtype, torch.device, torch.layout)
_EXIT = object()


def shown(value: Any, limit: int = 60) -> str:
    """``value`` for a message: a repr cut to ``limit`` characters (file contents may be
    huge, and may nest too deep for ``repr``)."""
    if isinstance(value, str):
        text = repr(value[: limit + 1])
    elif isinstance(value, int | float | bool | None):
        text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "<huge int>"
    else:
        text = kind(value)
    return clip(text, limit)


def clip(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters for a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind(value: Any) -> str:
    """What a value is, for messages: 'a str', 'an int', 'a Tensor'..."""
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiouAEIOU' else 'a'} {name}"


def join(path: str, key: Any) -> str:
    """The entry path of ``key`` inside ``path``: ``metadata.pack``, ``action_names[2]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    name = clip(key) if isinstance(key, str) else shown(key)
    return f"{path}.{name}" if path else name


def entry_error(
    file: str, path: str, message: str, hint: str = DAMAGED, code: str = "E204"
) -> CheckpointError:
    return CheckpointError(Diagnostic(code, message, hint=hint, file=file, path=path))


def entry(data: Mapping[str, Any], key: str, kind_: type, file: str, prefix: str = "") -> Any:
    """``data[key]``, which must be a ``kind_``; otherwise a clear E204 naming it."""
    path = join(prefix, key)
    value = data.get(key)
    if not isinstance(value, kind_) or (isinstance(value, bool) and kind_ is int):
        found = "missing" if key not in data else kind(value)
        expected = "dict" if kind_ is Mapping else kind_.__name__
        raise entry_error(
            file, path, f"the checkpoint's '{path}' is {found}; its format needs a {expected}"
        )
    return value


def optional(data: Mapping[str, Any], key: str, kind_: type, file: str, prefix: str = "") -> Any:
    """``data[key]`` when present and not None (then it must be a ``kind_``), else None."""
    if data.get(key) is None:
        return None
    return entry(data, key, kind_, file, prefix)


def count(value: Any, file: str, path: str) -> int:
    """A whole number >= 0 (episodes, steps, stages)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise entry_error(file, path, f"'{path}' is {shown(value)}; it must be a whole number >= 0")
    return value


def probability(value: Any, file: str, path: str) -> float:
    """A finite number in [0, 1] (epsilon)."""
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise entry_error(file, path, f"'{path}' is {shown(value)}; it must be a number in [0, 1]")
    return float(value)


def names(value: Any, file: str, path: str) -> list[str]:
    """A list of strings (action names, meter names)."""
    if not isinstance(value, list | tuple):
        raise entry_error(file, path, f"'{path}' is {kind(value)}; it must be a list of names")
    for index, name in enumerate(value):
        if not isinstance(name, str):
            where = join(path, index)
            raise entry_error(file, where, f"'{where}' is {shown(name)}; it must be a name")
    return list(value)


def string_map(value: Any, file: str, path: str) -> dict[str, str]:
    """A dict of strings to strings (the config snapshot: file name -> text)."""
    if not isinstance(value, Mapping):
        raise entry_error(file, path, f"'{path}' is {kind(value)}; it must be a dict")
    for key, text in value.items():
        if not isinstance(key, str) or not isinstance(text, str):
            where = join(path, key)
            raise entry_error(
                file, where, f"'{where}' is {kind(text)} under {shown(key)}; it must be text"
            )
    return dict(value)


def check_plain(
    value: Any, file: str, path: str, *, json_only: bool, limit: int = MAX_ITEMS
) -> None:
    """Check that ``value`` is plain data HAMLET can hold: no cycle, at most
    :data:`MAX_DEPTH` deep, at most ``limit`` values. With ``json_only`` (specs and
    metadata) only what JSON has: dicts with string keys, lists, strings, numbers,
    booleans and None. Otherwise tensors too (each backed by as much data as its shape
    says), and integer keys (optimizer states have them)."""
    stack: list[tuple[Any, Any, int]] = [(value, path, 0)]
    open_containers: set[int] = set()
    seen = 0
    while stack:
        item, where, depth = stack.pop()
        if item is _EXIT:
            open_containers.discard(where)
            continue
        seen += 1
        if seen > limit:
            raise entry_error(file, path, f"'{path}' holds more than {limit:,} values")
        if isinstance(item, _SCALARS):
            continue
        if isinstance(item, Tensor) and not json_only:
            check_tensor(item, file, _path(where))
            continue
        if not json_only and isinstance(item, _OTHER_LEAVES):
            continue
        if isinstance(item, Mapping | list | tuple) or (
            not json_only and isinstance(item, set | frozenset)
        ):
            if id(item) in open_containers:
                where = _path(where)
                raise entry_error(file, where, f"'{where}' contains itself")
            if depth >= MAX_DEPTH:
                where = _path(where)
                raise entry_error(file, where, f"'{where}' nests more than {MAX_DEPTH} deep")
            open_containers.add(id(item))
            stack.append((_EXIT, id(item), depth))
            children = (
                item.items() if isinstance(item, Mapping) else enumerate(item)
            )  # sets: the index is only a place in messages
            for key, child in children:
                if isinstance(item, Mapping) and not _plain_key(key, json_only):
                    where = _path(where)
                    raise entry_error(
                        file, where, f"'{where}' has a key that is {kind(key)}; keys are names"
                    )
                stack.append((child, (where, key), depth + 1))
            continue
        where = _path(where)
        allowed = "dicts, lists, text, numbers" if json_only else "dicts, lists, numbers, tensors"
        raise entry_error(
            file, where, f"'{where}' is {kind(item)}; a checkpoint holds {allowed} here"
        )


def check_tensor(tensor: Tensor, file: str, path: str) -> None:
    """A dense tensor whose data is all in the file: a shape that claims more values
    than its storage holds (stride-0 tricks) would multiply memory on first use."""
    if tensor.layout != torch.strided or tensor.is_quantized or tensor.is_nested:
        raise entry_error(
            file, path, f"'{path}' is a {tensor.layout} tensor; HAMLET stores dense tensors only"
        )
    if tensor.device.type == "meta":
        raise entry_error(file, path, f"'{path}' is a tensor without data (device meta)")
    needed = tensor.numel() * tensor.element_size()
    if needed > tensor.untyped_storage().nbytes():
        raise entry_error(
            file,
            path,
            f"'{path}' has shape {list(tensor.shape)}, which claims more values than the "
            "file stores for it",
        )


def _plain_key(key: Any, json_only: bool) -> bool:
    if isinstance(key, str):
        return True
    return not json_only and isinstance(key, int) and not isinstance(key, bool)


def _path(where: Any) -> str:
    """A path kept as nested ``(parent, key)`` pairs (cheap to make for every value),
    written out only when a message needs it."""
    keys = []
    while isinstance(where, tuple):
        where, key = where
        keys.append(key)
    path = where
    for key in reversed(keys):
        path = join(path, key)
    return path if len(path) <= 160 else f"{path[:80]}...{path[-77:]}"

"""Which device a model, a world or a run goes on: ``cpu``, ``cuda``, ``cuda:N`` or
``auto`` (the first GPU when there is one, else the CPU).

>>> resolve_device("cpu")
device(type='cpu')
>>> resolve_device("gpu")
Traceback (most recent call last):
...
hamlet.schemas.errors.UsageError: <command line>: error[E300] --device gpu cannot be used ...
  help: give cpu, cuda, cuda:N (the N-th GPU) or auto (a GPU when there is one)
"""

from __future__ import annotations

import re

import torch

from hamlet.schemas.errors import Diagnostic, RunError, UsageError

DEVICE_HELP = "cpu, cuda, cuda:N or auto (a GPU when there is one; default cpu)"
_FORM = re.compile(r"(cpu|cuda|auto)(?::(\d{1,3}))?")


def resolve_device(device: str | torch.device) -> torch.device:
    """The ``torch.device`` named by ``device``, checked to exist on this machine.

    An unknown name is a :class:`~hamlet.schemas.errors.UsageError` (E300); a GPU that
    this machine or this build of PyTorch lacks is a
    :class:`~hamlet.schemas.errors.RunError` (E301).
    """
    if isinstance(device, torch.device):
        device = str(device)
    match = _FORM.fullmatch(device.strip().lower()) if isinstance(device, str) else None
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise UsageError.option(
            "--device", device, "cpu, cuda, cuda:N (the N-th GPU) or auto (a GPU when there is one)"
        )
    kind, index = match.group(1), match.group(2)
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        built = torch.version.cuda is not None
        raise RunError(
            Diagnostic(
                "E301",
                f"--device {device} asks for a GPU, but "
                + ("no CUDA GPU is visible here" if built else "this PyTorch is a CPU-only build"),
                hint="use --device cpu (or auto)"
                + ("" if built else "; for a GPU, install a CUDA build of PyTorch"),
                file="<command line>",
                path="--device",
            )
        )
    count = torch.cuda.device_count()
    if index is not None and int(index) >= count:
        raise RunError(
            Diagnostic(
                "E301",
                f"--device {device}: there is no GPU {index} (this machine has {count})",
                hint=f"give cuda:0 to cuda:{count - 1}, or cuda for the first",
                file="<command line>",
                path="--device",
            )
        )
    return torch.device("cuda", int(index or 0))

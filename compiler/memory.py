"""The memory a brain needs to train, estimated from its sizes before anything exists.

A size typed by mistake (``hidden: [1000000000]``, ``capacity: 1e12``) passes every
other check and then exhausts the machine while the module or the replay memory is
allocated. So the resolver adds up what training the brain holds, from the sizes
alone, and refuses (E134) a brain over the limit:

- its parameters, five times: the weights, their gradients, Adam's two moment
  estimates and the target network;
- the activations the backward pass keeps, three times (the values, their gradients
  and the target network's pass over the next states), for a batch of ``batch_size``
  windows of ``n_step`` steps, or ``burn_in + length`` steps for a recurrent brain;
- the replay memory: ``capacity`` transitions of two observations, the action, the
  reward, two flags and the next action mask (plus the recurrent state, and a
  priority when replay is prioritized).

Values are float32, 4 bytes. This is an estimate of the order of magnitude, meant to
catch sizes that cannot work, not to plan a machine's memory.

>>> format_bytes(DEFAULT_MAX_MEMORY), format_bytes(3 * 2**40 // 2)
('8.0 GiB', '1.5 TiB')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .kinds import KeyPath
from .spec import LearningSpec, ReplaySpec, SequenceSpec

DEFAULT_MAX_MEMORY = 8 * 2**30
"""8 GiB: what a modest laptop has, and over 150 times what the largest brain of the
shipped packs needs (L3_temporal_mechanics: about 51 MiB, most of it replay memory).
A brain over it is almost surely a typing mistake, one that would otherwise fail much
later or freeze the machine; with more memory, raise the limit (``max_memory=`` in
Python, ``--max-memory GIB`` on the command line)."""

BYTES_PER_VALUE = 4
TRAINING_COPIES = 5
"""Weights, gradients, Adam's two moments, the target network."""
ACTIVATION_COPIES = 3
"""Forward values, their gradients, the target network's pass over the next states."""

_DEFAULT_BATCH = LearningSpec.model_fields["batch_size"].default
_DEFAULT_CAPACITY = ReplaySpec.model_fields["capacity"].default
_DEFAULT_LENGTH = SequenceSpec.model_fields["length"].default
_DEFAULT_BURN_IN = SequenceSpec.model_fields["burn_in"].default


@dataclass(frozen=True)
class Part:
    """One thing training holds: a node's parameters or activations, or the replay."""

    what: str
    """What it is, for the message: ``node 'encoder': 91,000 parameters``."""
    bytes: int
    path: KeyPath
    """The key whose size makes it large."""
    multipliers: tuple[tuple[KeyPath, int], ...] = ()
    """Settings that multiply it (``batch_size``), each with the bytes the part would
    take with that setting at its default."""


@dataclass(frozen=True)
class Overrun:
    """A brain over the memory limit: the estimate and the part that weighs most."""

    total: int
    limit: int
    part: Part

    @property
    def path(self) -> KeyPath:
        """The key to point at: a multiplier at whose default the part would fit
        (``batch_size: 1e9``), else the key that makes the part itself large."""
        fits = [(size, key) for key, size in self.part.multipliers if size <= self.limit]
        return min(fits)[1] if fits else self.part.path

    @property
    def message(self) -> str:
        return (
            f"training this brain would need about {format_bytes(self.total)}, more than "
            f"the limit of {format_bytes(self.limit)}; the largest part is "
            f"{self.part.what} ({format_bytes(self.part.bytes)})"
        )

    @property
    def hint(self) -> str:
        words = [k for k in self.path if isinstance(k, str)]
        key = words[-1] if words else ""
        if key in ("input", "inputs"):
            advice = "the node's input is what is large: make what it reads smaller"
        elif self.path == ("observation",):
            advice = "the observation the world gives is what is large: use a smaller one"
        else:
            advice = f"make `{key}` smaller"
        return (
            f"{advice}; if you do mean it and the machine has the memory, raise the limit "
            "(hamletc --max-memory GIB, or max_memory= in Python)"
        )


def over_limit(parts: Sequence[Part], limit: int) -> Overrun | None:
    """The overrun when the parts add up to more than ``limit`` bytes, else None."""
    total = sum(p.bytes for p in parts)
    if total <= limit:
        return None
    return Overrun(total, limit, max(parts, key=lambda p: p.bytes))


@dataclass(frozen=True)
class Batch:
    """How many samples one gradient step runs through the network."""

    learning: LearningSpec
    recurrent: bool

    @property
    def window(self) -> int:
        sequence = self.learning.sequence
        return sequence.burn_in + sequence.length if self.recurrent else self.learning.n_step

    @property
    def samples(self) -> int:
        return self.learning.batch_size * self.window

    def activations(self, what: str, values: int, path: KeyPath) -> Part:
        """The activations of ``values`` floats per sample, for a whole batch."""
        size = values * self.samples * BYTES_PER_VALUE * ACTIVATION_COPIES
        sequence = self.learning.sequence
        at_default = [
            (("learning", "batch_size"), size * _DEFAULT_BATCH // self.learning.batch_size)
        ]
        if self.recurrent:
            at_default += [
                (
                    ("learning", "sequence", "length"),
                    size * (sequence.burn_in + _DEFAULT_LENGTH) // self.window,
                ),
                (
                    ("learning", "sequence", "burn_in"),
                    size * (_DEFAULT_BURN_IN + sequence.length) // self.window,
                ),
            ]
        return Part(f"{what}: {count(values)} values per sample", size, path, tuple(at_default))


def parameters(what: str, params: int, path: KeyPath) -> Part:
    """The parameters of a node, as training holds them."""
    size = params * BYTES_PER_VALUE * TRAINING_COPIES
    return Part(f"{what}: {count(params)} parameters", size, path)


def replay(
    learning: LearningSpec,
    obs_dim: int,
    actions: int,
    path: KeyPath,
    *,
    recurrent_state: int = 0,
) -> Part:
    """The replay memory for observations of ``obs_dim`` values (``path`` is the key
    that makes one transition large); ``recurrent_state`` is ``num_layers * hidden_size``."""
    per_step = (
        2 * obs_dim * BYTES_PER_VALUE  # observation and next observation
        + 8 + BYTES_PER_VALUE + 2  # action (int64), reward, terminal and end flags
        + actions  # next action mask (bool)
        + 2 * recurrent_state * BYTES_PER_VALUE  # h and c before the step
        + (BYTES_PER_VALUE if learning.replay.prioritized else 0)  # priority
    )  # fmt: skip
    capacity = learning.replay.capacity
    at_default = ((("learning", "replay", "capacity"), per_step * _DEFAULT_CAPACITY),)
    what = f"the replay memory: {count(capacity)} transitions of {format_bytes(per_step)}"
    return Part(what, capacity * per_step, path, at_default)


def observation_parts(
    batch: Batch,
    fields: Sequence[tuple[int, KeyPath]],
    actions: tuple[int, KeyPath],
    *,
    recurrent_state: int = 0,
) -> list[Part]:
    """The replay memory and the batch's observations and Q-values, for observation
    fields of the given sizes and an action count, each with the key that sets it."""
    obs_dim = sum(size for size, _ in fields)
    num_actions, actions_path = actions
    largest = max(fields, key=lambda f: f[0], default=(0, actions_path))
    # A transition holds each observation value twice as float32 and each action once
    # as a bool (the mask): whichever weighs more is what makes it large.
    path = actions_path if num_actions > 2 * BYTES_PER_VALUE * largest[0] else largest[1]
    return [
        replay(batch.learning, obs_dim, num_actions, path, recurrent_state=recurrent_state),
        batch.activations("the observations and Q-values", obs_dim + num_actions, path),
    ]


def count(n: int) -> str:
    """``1234567`` -> ``1,234,567``; from a quadrillion on, the power of ten (``10^21``)."""
    return f"{n:,}" if n < 10**15 else f"10^{_digits(n) - 1}"


def format_bytes(n: int) -> str:
    """A byte count in binary units (``8.0 GiB``); from 1 ZiB on, the power of ten."""
    if n >= 2**70:
        return f"10^{_digits(n) - 1} bytes"
    for unit, power in (("EiB", 60), ("PiB", 50), ("TiB", 40), ("GiB", 30), ("MiB", 20)):
        if n >= 2**power:
            return f"{n / 2**power:.1f} {unit}"
    return f"{n / 2**10:.1f} KiB" if n >= 2**10 else f"{n} bytes"


def _digits(n: int) -> int:
    """Decimal digits of a positive integer (without ``str``, which refuses huge ones)."""
    digits = max(1, int(n.bit_length() * math.log10(2)))
    return digits + 1 if n >= 10**digits else digits

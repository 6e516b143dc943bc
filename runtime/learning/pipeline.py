"""Gradient steps in a second process, beside the agents: both cores of a CPU at work.

In one process the agents wait while the network learns, and on a CPU learning is half
of a training step or more (docs/PERFORMANCE.md). With a :class:`LearnerProcess`, the
trainer's process acts, steps the world and stores transitions while a second process
takes the gradient steps.

The two meet every ``train_frequency`` environment steps, at a *barrier*. There the
agents take the weights of the gradient step that has finished, hand over the steps
they stored since the last barrier, and act on while the learner takes the next
gradient step. So the agents act with the weights from before the gradient step in
progress. The trainer keeps exactly that lag when it learns in its own process too
(:meth:`~.trainer.Trainer.step`), so a run's results do not depend on where it learns.

The learner is a fork of the trainer's process, made at the first barrier where
learning starts. It inherits the networks, the optimizer, the replay memory, RND and
their generators as they are; the trainer's copies of those are not used again, and
:meth:`~.resume.Resumable.checkpoint` asks the learner for its state. Between the two
processes only what changes goes across: the stored steps and the new weights through
shared memory (two buffers of steps: one is filled while the learner reads the other),
and short messages through a pipe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from .dqn import DQNLearner
from .forked import Forked, HelperFailed, messages
from .replay import Replay
from .rnd import RND

FIELDS = ("obs", "actions", "rewards", "next_obs", "next_mask", "terminal", "end")
"""What :meth:`Replay.add` stores of every agent's step, in its argument order."""


class Learning(Protocol):
    """What the learner process needs of the trainer it was forked from."""

    learner: DQNLearner
    rnd: RND | None
    train_frequency: int
    device: torch.device

    def gradient_step(self, beta: float, weight: float) -> dict[str, Tensor]: ...


class LearnerFailed(HelperFailed):
    """The learner process raised an error or ended: ``reason`` in a line, ``details``
    (its traceback, if it raised one)."""

    what = "the learner process"


def module_tensors(module: torch.nn.Module) -> list[Tensor]:
    """A module's weights and buffers, as tensors that share their storage."""
    return list(module.state_dict().values())


def copy_tensors(into: list[Tensor], source: list[Tensor]) -> None:
    with torch.no_grad():
        for mine, theirs in zip(into, source, strict=True):
            mine.copy_(theirs)


class StagedSteps:
    """The steps stored between two barriers, in shared memory: two slots, so that the
    agents fill one while the learner copies the other into its replay memory."""

    def __init__(self, replay: Replay, steps: int) -> None:
        def slots(stored: Tensor, shape: tuple[int, ...]) -> Tensor:
            return torch.zeros((2, steps, *shape), dtype=stored.dtype).share_memory_()

        # a replay keeps [agents, size, ...]; a step of every agent is [agents, ...]
        self.fields = [
            slots(stored, (stored.shape[0], *stored.shape[2:]))
            for stored in (getattr(replay, name) for name in FIELDS)
        ]
        self.hidden = None
        if replay.hidden is not None:  # stored [agents, size, layers, hidden]; given per layer
            agents, _, layers, size = replay.hidden[0].shape
            self.hidden = [slots(t, (layers, agents, size)) for t in replay.hidden]
        self.slot = 0
        self.count = 0
        # each step's place in every buffer, made once (indexing anew took ~4 us a field)
        buffers = [*self.fields, *(self.hidden or ())]
        self._rows = [[[b[slot, row] for b in buffers] for row in range(steps)] for slot in (0, 1)]

    def add(self, *step: Tensor, hidden: tuple[Tensor, Tensor] | None = None) -> None:
        """Stage one step of every agent (the arguments of :meth:`Replay.add`)."""
        row = self._rows[self.slot][self.count]
        for place, value in zip(row[: len(step)], step, strict=True):  # (then the hidden)
            place.copy_(value)
        if self.hidden is not None and hidden is not None:
            row[-2].copy_(hidden[0])
            row[-1].copy_(hidden[1])
        self.count += 1

    def hand_over(self) -> tuple[int, int]:
        """The slot and number of steps staged; the next steps go to the other slot."""
        handed = (self.slot, self.count)
        self.slot, self.count = 1 - self.slot, 0
        return handed

    def commit(self, slot: int, count: int, replay: Replay) -> None:
        """(In the learner.) Store the ``count`` steps of ``slot`` in ``replay``, in order."""
        if count == 0:
            return
        hidden = None
        if self.hidden is not None:
            hidden = (self.hidden[0][slot, :count], self.hidden[1][slot, :count])
        replay.extend(*(buffer[slot, :count] for buffer in self.fields), hidden=hidden)


class LearnerProcess:
    """The learning half of a :class:`~.trainer.Trainer`, in a process of its own."""

    def __init__(self, trainer: Learning) -> None:
        learner = trainer.learner
        self.staged = StagedSteps(learner.replay, trainer.train_frequency)
        self._replay = learner.replay
        self._replay.share_memory()  # (the learner writes it; a checkpoint reads it here)
        self.weights = [t.detach().clone().share_memory_() for t in module_tensors(learner.online)]
        """The online network's weights after the last finished gradient step."""
        self.stats = torch.zeros(2).share_memory_()
        """Its loss and gradient norm."""
        self.gradient_steps = learner.gradient_steps
        """Gradient steps begun (the last may be in progress)."""
        self._threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one core each (the fork keeps the setting)
        self._helper = Forked(
            _serve, trainer, self.staged, self.weights, self.stats,
            name="hamlet-learner", failed=LearnerFailed,
        )  # fmt: skip
        self._pending = False
        self.started = False
        """A gradient step has begun here (so :attr:`stats` are those of one)."""

    # --- the trainer's side -------------------------------------------------------------

    def learn(self, acting: list[Tensor], beta: float, weight: float) -> Tensor | None:
        """A barrier: wait for the gradient step in progress, give its weights to the
        acting network ``acting``, and start the next step on the steps staged since
        the last barrier. Returns the finished step's loss and gradient norm (None if
        this is the first step here)."""
        self.settle()
        copy_tensors(acting, self.weights)
        finished = self.stats.clone() if self.started else None
        slot, count = self.staged.hand_over()
        self._send("learn", beta, weight, slot, count)
        self._pending = self.started = True
        self.gradient_steps += 1
        return finished

    def settle(self) -> None:
        """Wait until the gradient step in progress (if any) has finished."""
        if self._pending:
            self._pending = False
            self._receive("done")

    def novelty(self, obs: Tensor) -> Tensor:
        """RND's novelty of ``obs`` as :meth:`~.rnd.RND.novelty` gives it, after the
        gradient step in progress."""
        self.settle()
        self._send("novelty", obs.detach().cpu().numpy())
        return torch.from_numpy(self._receive("novelty")[1]).to(obs.device)

    def state(self) -> dict[str, Any]:
        """Everything the learner holds (for a checkpoint), after the step in progress
        and with the steps staged since the last barrier in its replay: ``online``,
        ``learner`` (:meth:`~.dqn.DQNLearner.state_dict`), ``rnd``, ``rng``."""
        self.settle()
        self._send("state", *self.staged.hand_over())  # (with the steps staged)
        state = _tensors(self._receive("state")[1])
        # the stored steps are in shared memory: only the replay's counts came across
        counts = state["learner"]["replay"]
        self._replay.written = counts["written"]
        self._replay.max_priority = torch.tensor(counts["max_priority"])
        state["learner"]["replay"] = self._replay.state_dict()
        return state

    def close(self) -> None:
        """End the learner (a step in progress is dropped) and give back the threads."""
        self._helper.close()
        torch.set_num_threads(self._threads)

    def _send(self, *message: Any) -> None:
        self._helper.send(*message)

    def _receive(self, kind: str) -> tuple[Any, ...]:
        return self._helper.receive(kind)


def _serve(
    conn: Any, trainer: Learning, staged: StagedSteps, weights: list[Tensor], stats: Tensor
) -> None:
    """The learner process: take the trainer's messages, in order, until it closes (and
    if the trainer's process is killed, this one reads the end of the pipe and ends)."""
    learner, rnd = trainer.learner, trainer.rnd
    online = module_tensors(learner.online)
    for message in messages(conn):
        kind = message[0]
        if kind == "learn":
            _, beta, weight, slot, count = message
            staged.commit(slot, count, learner.replay)
            result = trainer.gradient_step(beta, weight)
            copy_tensors(weights, online)
            stats[0], stats[1] = result["loss"], result["grad_norm"]
            conn.send(("done",))
        elif kind == "novelty":
            assert rnd is not None
            novelty = rnd.novelty(torch.from_numpy(message[1]).to(trainer.device))
            conn.send(("novelty", np.asarray(novelty.cpu())))
        elif kind == "state":
            staged.commit(*message[1:], learner.replay)
            state = learner.state_dict()
            replay = learner.replay
            state["replay"] = {
                "written": replay.written,
                "max_priority": float(replay.max_priority),
            }
            state = {
                "online": learner.online.state_dict(),
                "learner": state,
                "rnd": rnd.state_dict() if rnd is not None else None,
                "rng": learner.generator.get_state(),
            }
            conn.send(("state", _arrays(state)))


def map_nested(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """``value`` (nested dicts, lists, tuples and dataclasses, as a checkpoint's state is)
    rebuilt with ``leaf`` applied to everything else in it."""
    if isinstance(value, dict):
        return {key: map_nested(v, leaf) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(map_nested(v, leaf) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return dataclasses.replace(
            value, **{f.name: map_nested(getattr(value, f.name), leaf) for f in fields}
        )
    return leaf(value)


def _arrays(value: Any) -> Any:
    """``value`` with its tensors as NumPy arrays, which a pipe carries as plain bytes (a
    tensor would go as shared memory, set up anew for every message)."""
    return map_nested(value, lambda v: v.detach().cpu().numpy() if isinstance(v, Tensor) else v)


def _tensors(value: Any) -> Any:
    """The reverse of :func:`_arrays`."""
    return map_nested(value, lambda v: torch.from_numpy(v) if isinstance(v, np.ndarray) else v)

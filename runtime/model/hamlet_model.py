"""``HamletModel``: a trained (or fresh) brain you can load in one line and ask for actions.

>>> from hamlet.runtime import HamletModel
>>> model = HamletModel.from_spec("simple_q", world="L0_0_minimal", seed=0)
>>> result = model.predict(torch.zeros(2, model.obs_dim))
>>> result["actions"].shape, result["q_values"].shape
(torch.Size([2]), torch.Size([2, 6]))
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hamlet.compiler import BrainSource, CompiledBrain, compile_brain, load_brain
from hamlet.runtime.export import Export, export_model
from hamlet.schemas import enclosing_pack, load_pack, observation_layout
from hamlet.schemas.layout import ObservationLayout

from .actions import select_actions
from .checkpoint import InferenceCheckpoint, hamlet_version, save_checkpoint
from .loading import load_model_parts

Hidden = tuple[Tensor, Tensor]


class HamletModel:
    """A compiled brain, its weights and what is known about them.

    Build one from a brain spec (:meth:`from_spec`) or load a file (:meth:`load`).
    :meth:`predict` is a pure function: it never changes the model or its inputs.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        brain: CompiledBrain,
        metadata: Mapping[str, Any] | None = None,
        source_format: str | None = None,
    ) -> None:
        self.module = module.eval()
        self.brain = brain
        # predict() needs these on every call; looking them up each time costs more than
        # a small forward pass. Parameters keep their identity when the module moves, so
        # the first one always knows the device.
        self._first_parameter = next(module.parameters())
        self._obs_dim = brain.layout.obs_dim
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.source_format = source_format
        """The format of the file it was loaded from (None when built from a spec)."""

    # --- construction ------------------------------------------------------------------

    @classmethod
    def from_spec(
        cls,
        brain: str | Path | BrainSource | CompiledBrain,
        *,
        world: str | Path | None = None,
        layout: ObservationLayout | None = None,
        device: str | torch.device = "cpu",
        seed: int | None = None,
    ) -> HamletModel:
        """A freshly initialised model of ``brain`` (a file, built-in name or compiled brain).

        The observation layout comes from ``layout``, or from the config pack ``world``
        (a folder or a shipped pack's name), or from the pack the brain file sits in.
        ``seed`` makes the initial weights reproducible.
        """
        if not isinstance(brain, CompiledBrain):
            source = brain if isinstance(brain, BrainSource) else load_brain(brain)
            if layout is None:
                layout = _world_layout(world, source)
            brain = compile_brain(source, layout=layout)
        generator_state = torch.random.get_rng_state()
        try:
            if seed is not None:
                torch.manual_seed(seed)
            module = brain.instantiate()
        finally:
            if seed is not None:
                torch.random.set_rng_state(generator_state)
        metadata = {"hamlet_version": hamlet_version()}
        if world is not None:
            metadata["pack"] = Path(str(world)).name
        return cls(module.to(device), brain, metadata)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        device: str | torch.device = "cpu",
        allow_hash_mismatch: bool = False,
    ) -> HamletModel:
        """Load any checkpoint HAMLET knows, dispatching on its format.

        Reads ``inference_v1`` and ``training_v2`` checkpoints, safetensors exports,
        the original system's training checkpoints, bare state_dicts of the built-in
        brains and seed 004's ``{model_state_dict, model_config}`` files. Problems are
        :class:`~hamlet.schemas.CheckpointError` with a stable code.
        """
        loaded = load_model_parts(path, device, allow_hash_mismatch)
        return cls(loaded.module, loaded.brain, loaded.metadata, loaded.format)

    # --- what it is --------------------------------------------------------------------

    @property
    def spec(self) -> dict[str, Any]:
        """The resolved brain spec."""
        return self.brain.to_dict()

    @property
    def spec_hash(self) -> str:
        return self.brain.spec_hash

    @property
    def layout(self) -> ObservationLayout:
        return self.brain.layout

    @property
    def obs_dim(self) -> int:
        return self._obs_dim

    @property
    def num_actions(self) -> int:
        return self.layout.num_actions

    @property
    def action_names(self) -> tuple[str, ...]:
        return self.layout.action_names

    @property
    def is_recurrent(self) -> bool:
        return self.module.recurrent is not None

    @property
    def device(self) -> torch.device:
        return self._first_parameter.device

    def __repr__(self) -> str:
        kind = self.module.recurrent or "feed-forward"
        return (
            f"HamletModel({self.brain.resolved.spec.name!r}, {kind}, obs {self.obs_dim} -> "
            f"{self.num_actions} actions, {self.spec_hash[:19]}...)"
        )

    def initial_state(self, batch_size: int) -> Hidden | None:
        """Zero hidden state for ``batch_size`` new episodes (None for feed-forward brains)."""
        if not self.is_recurrent:
            return None
        return self.module.initial_state(batch_size, device=self.device)

    # --- acting ------------------------------------------------------------------------

    def predict(
        self,
        obs: Tensor | np.ndarray,
        hidden: Hidden | None = None,
        epsilon: float | Tensor = 0.0,
        action_mask: Tensor | np.ndarray | None = None,
        generator: torch.Generator | None = None,
        *,
        noise: bool = False,
        return_distribution: bool = False,
    ) -> dict[str, Any]:
        """Actions for a batch of observations ``[batch, obs_dim]``.

        Returns ``{"actions": [batch], "q_values": [batch, actions], "hidden": (h, c) or
        None}``. Greedy at ``epsilon`` 0; otherwise epsilon-greedy among the valid
        actions. ``action_mask`` (True = allowed) is always respected. Recurrent brains
        start from ``hidden`` (zeros when None) and return the next state. Noisy heads
        draw noise only with ``noise=True``; distributional heads return expected
        Q-values, plus ``"distribution"`` (probabilities per atom) and ``"support"`` with
        ``return_distribution=True``. Random draws use ``generator`` when given.
        """
        obs_t = self._tensor(obs, "obs")
        if obs_t.dim() != 2 or obs_t.shape[1] != self.obs_dim:
            raise ValueError(
                f"obs must have shape [batch, {self.obs_dim}], got {list(obs_t.shape)}"
            )
        if noise and not self.module.noisy:
            raise ValueError("this brain has no noisy layers; predict(noise=True) needs them")
        if return_distribution and not self.module.distributional:
            raise ValueError("this brain's Q-head is not distributional")
        if generator is not None and generator.device != self.device:
            raise ValueError(
                f"the generator is on {generator.device}, the model on {self.device}; "
                f"make it with torch.Generator({str(self.device)!r})"
            )
        extra = {"noise": True, "generator": generator} if noise else {}
        mask = None if action_mask is None else self._tensor(action_mask, "action_mask", bool)
        with torch.no_grad():
            hidden_in = self._hidden(hidden, obs_t.shape[0]) if self.is_recurrent else None
            logits = None
            if return_distribution:
                # one pass: Q-values are the expectation of the very distribution returned
                logits, next_hidden = self._logits(obs_t, hidden_in, extra)
                head = getattr(self.module, self.module.head_name)
                support = head.support(logits)
                probs = torch.softmax(logits, dim=-1)
                q_values = (probs * support).sum(-1)
            elif hidden_in is not None:
                q_values, h_next, c_next = self.module(obs_t, *hidden_in, **extra)
                next_hidden = (h_next, c_next)
            else:
                q_values = self.module(obs_t, **extra)
                next_hidden = None
            result: dict[str, Any] = {
                "actions": select_actions(
                    q_values, epsilon=epsilon, action_mask=mask, generator=generator
                ),
                "q_values": q_values,
                "hidden": next_hidden,
            }
            if logits is not None:
                result["distribution"], result["support"] = probs, support
        return result

    def _logits(
        self, obs: Tensor, hidden: Hidden | None, extra: dict[str, Any]
    ) -> tuple[Tensor, Hidden | None]:
        if hidden is None:
            return self.module.q_logits(obs, **extra), None
        logits, h, c = self.module.q_logits(obs.unsqueeze(1), *hidden, **extra)
        return logits[:, 0], (h, c)

    def _hidden(self, hidden: Hidden | None, batch: int) -> Hidden:
        if hidden is None:
            return self.module.initial_state(batch, device=self.device)
        h, c = (self._tensor(t, "hidden") for t in hidden)
        expected = [self.module.num_layers, batch, self.module.hidden_size]
        if list(h.shape) != expected or list(c.shape) != expected:
            raise ValueError(f"hidden (h, c) must each have shape {expected}")
        return h, c

    def _tensor(self, value: Any, name: str, dtype: torch.dtype = torch.float32) -> Tensor:
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value)
        if not isinstance(value, Tensor):
            raise TypeError(f"{name} must be a torch tensor or a numpy array")
        device = self._first_parameter.device
        if value.dtype == dtype and value.device == device:
            return value
        return value.to(device=device, dtype=dtype)

    # --- saving and exporting ----------------------------------------------------------

    def checkpoint(self, **metadata: Any) -> InferenceCheckpoint:
        """This model as an inference checkpoint, with ``metadata`` added to its own."""
        info = {
            **self.metadata,
            "observation_layout": self.layout.to_dict(),
            "action_names": list(self.action_names),
            "hamlet_version": hamlet_version(),
            **metadata,
        }
        weights = {k: v.detach().cpu() for k, v in self.module.state_dict().items()}
        return InferenceCheckpoint(weights, self.spec, self.spec_hash, info)

    def save(self, path: str | Path, **metadata: Any) -> Path:
        """Write an ``inference_v1`` checkpoint (atomically)."""
        return save_checkpoint(self.checkpoint(**metadata), path)

    def export(self, out: str | Path, format: str = "onnx", *, verify: bool = False) -> Export:
        """Export to ``onnx``, ``torchscript``, ``safetensors`` or ``python``; with
        ``verify``, check that the export computes the same (see
        :mod:`hamlet.runtime.export`). Returns the path written and the verification."""
        return export_model(self, out, format, verify=verify)


class StatefulModel:
    """Carries a recurrent brain's hidden state from step to step for you.

    >>> agent = StatefulModel(HamletModel.from_spec("recurrent_spatial_q",
    ...                       world="L2_partial_observability", seed=0), batch_size=2)
    >>> agent.step(torch.zeros(2, 54))["actions"].shape
    torch.Size([2])
    >>> agent.reset(torch.tensor([True, False]))  # the first episode ended
    """

    def __init__(self, model: HamletModel, batch_size: int = 1) -> None:
        self.model = model
        self.batch_size = batch_size
        self.hidden = model.initial_state(batch_size)

    def step(self, obs: Tensor | np.ndarray, **kwargs: Any) -> dict[str, Any]:
        """``model.predict`` from the carried state; the state then moves on."""
        result = self.model.predict(obs, self.hidden, **kwargs)
        self.hidden = result["hidden"]
        return result

    def reset(self, done: Tensor | np.ndarray | None = None) -> None:
        """Zero the state of every row (``done`` None) or of the rows where ``done``."""
        if self.hidden is None:
            return
        if done is None:
            self.hidden = self.model.initial_state(self.batch_size)
            return
        keep = ~self.model._tensor(done, "done", torch.bool).view(1, -1, 1)
        self.hidden = tuple(torch.where(keep, t, torch.zeros_like(t)) for t in self.hidden)


def _world_layout(world: str | Path | None, source: BrainSource) -> ObservationLayout | None:
    pack = world if world is not None else (source.path and enclosing_pack(source.path))
    return observation_layout(load_pack(pack)) if pack else None

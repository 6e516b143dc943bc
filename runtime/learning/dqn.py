"""The DQN family, for every brain the compiler builds.

One gradient step, read top to bottom in :meth:`DQNLearner.learn`:

1. sample windows from the replay (``n_step`` steps for feed-forward brains;
   ``burn_in + length`` steps for recurrent ones, from the stored acting state);
2. build n-step returns on the window, with the novelty of its next states (RND);
3. evaluate the online network on the window (its burn-in without gradients, as in
   R2D2) and the target network on each step's next state; a feed-forward brain's
   window is first cut to what its one trained step reads (its state, and the next
   state its return bootstraps from). The next action is chosen among the next
   state's *valid* actions (by the online network for double DQN) and valued by the
   target network;
4. Huber/MSE loss (or C51's cross-entropy on projected distributions), weighted for
   prioritized replay; gradient clipping; optimizer step;
5. every ``target_update.every`` gradient steps, move the target network towards the
   online one (``tau`` 1 is a hard copy).

Noisy heads draw fresh noise for every forward pass of a learning step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from hamlet.runtime.model import HamletModel

from .replay import Batch, Replay
from .targets import NStep, n_step, project_distribution


def window_steps(learning: dict[str, Any], recurrent: bool) -> int:
    """Consecutive steps of one agent that a sampled window reads: ``n_step`` for a
    feed-forward brain, ``burn_in + length`` for a recurrent one."""
    if recurrent:
        return learning["sequence"]["burn_in"] + learning["sequence"]["length"]
    return learning["n_step"]


class DQNLearner:
    """Owns the online and target networks, the optimizer and the replay memory."""

    def __init__(
        self,
        model: HamletModel,
        num_agents: int,
        *,
        generator: torch.Generator,
    ) -> None:
        self.model = model
        self.online = model.module
        self.online.train()
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.learning: dict[str, Any] = model.spec["learning"]
        self.generator = generator
        cfg = self.learning
        optimizer = torch.optim.AdamW if cfg["optimizer"] == "adamw" else torch.optim.Adam
        self.optimizer = optimizer(
            self.online.parameters(),
            lr=cfg["learning_rate"],
            weight_decay=cfg["weight_decay"],
            # One fused kernel for all parameters: about half the time of the default.
            fused=True,
        )
        self.recurrent = model.is_recurrent
        self.window = window_steps(cfg, self.recurrent)
        capacity = cfg["replay"]["capacity"]
        if capacity // num_agents < self.window:  # (hamlet run refuses this first: E135)
            raise ValueError(
                f"a replay capacity of {capacity} split between {num_agents} agents leaves "
                f"{capacity // num_agents} steps each, fewer than the {self.window} of a window"
            )
        hidden = (self.online.num_layers, self.online.hidden_size) if self.recurrent else None
        prioritized = cfg["replay"]["prioritized"] or None
        self.replay = Replay(
            cfg["replay"]["capacity"],
            num_agents,
            model.obs_dim,
            model.num_actions,
            hidden_shape=hidden,
            prioritized=prioritized,
            device=model.device,
        )
        self.gradient_steps = 0
        self.intrinsic: Callable[[Tensor], Tensor] | None = None
        """Maps next states ``[..., obs_dim]`` to the intrinsic reward added to the
        stored extrinsic one (already weighted); set by the trainer when RND is on."""
        self.head = getattr(self.online, self.online.head_name)
        self.target_head = getattr(self.target, self.target.head_name)

    @property
    def ready(self) -> bool:
        """Enough transitions stored to start learning."""
        return len(self.replay) >= max(self.learning["learning_starts"], 1)

    # --- one gradient step ----------------------------------------------------------

    def learn(self, beta: float = 1.0) -> dict[str, float]:
        """Sample, compute the loss, step the optimizer; returns loss statistics."""
        cfg = self.learning
        gamma, n = cfg["gamma"], cfg["n_step"]
        burn_in = cfg["sequence"]["burn_in"] if self.recurrent else 0
        batch = self.replay.sample(cfg["batch_size"], self.window, self.generator, beta)
        rewards = batch.rewards
        if self.intrinsic is not None:  # (it also trains the novelty predictor: no no_grad)
            rewards = rewards + self.intrinsic(batch.next_obs).detach()
        targets = n_step(rewards, batch.terminal, batch.end, batch.length, gamma, n)
        if not self.recurrent and n > 1:
            # A feed-forward brain trains on a window's first step; the others only add
            # their rewards to its return. The networks need its state and the next state
            # its return bootstraps from: 2 of the window's 2n states.
            batch, targets = _first_step(batch, targets)

        # --- evaluate: online values (and next-state values) on the window --------
        online_now, online_next, target_next = self._evaluate(batch)
        # Train on the steps after burn-in that belong to the window's first episode
        # (steps after an earlier episode end carry another episode's state).
        ended_before = torch.cumsum(batch.end.long(), dim=1) - batch.end.long()
        train = batch.length & (ended_before == 0)
        train[:, :burn_in] = False
        if not self.recurrent:
            train[:, 1:] = False  # feed-forward: the first step; the rest only feeds its return

        # --- targets: the next action among valid ones, valued by the target net ----
        with torch.no_grad():
            chooser = online_next if self.learning["double_dqn"] else target_next
            chooser_q = self._expected(chooser)
            next_action = chooser_q.masked_fill(~batch.next_mask, float("-inf")).argmax(-1)
            last = targets.last
            action_at_last = torch.gather(next_action, 1, last)

        if self.model.module.distributional:
            loss_per_step = self._c51_loss(online_now, target_next, batch, targets, action_at_last)
        else:
            with torch.no_grad():
                next_value = torch.gather(
                    self._expected(target_next), 2, next_action.unsqueeze(-1)
                ).squeeze(-1)
                bootstrap = torch.gather(next_value, 1, last)
                target_value = targets.returns + targets.discount * bootstrap
            chosen = torch.gather(online_now, 2, batch.actions.unsqueeze(-1)).squeeze(-1)
            if cfg["loss"] == "huber":
                loss_per_step = F.smooth_l1_loss(chosen, target_value, reduction="none")
            else:
                loss_per_step = F.mse_loss(chosen, target_value, reduction="none")

        # --- weighted mean over the trained steps, then the optimizer step ---------
        counted = train.float()
        per_window = (loss_per_step * counted).sum(1) / counted.sum(1).clamp(min=1.0)
        loss = (per_window * batch.weights).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["max_grad_norm"] is not None:
            grad_norm = torch.nn.utils.clip_grad_norm_(
                self.online.parameters(), cfg["max_grad_norm"]
            )
        else:
            grad_norm = torch.tensor(0.0)
        self.optimizer.step()
        self.replay.update_priorities(batch, per_window.detach())

        # --- target network -----------------------------------------------------------
        self.gradient_steps += 1
        if self.gradient_steps % cfg["target_update"]["every"] == 0:
            self.update_target(cfg["target_update"]["tau"])
        # (tensors: reading them would make the host wait for the device, every step)
        return {"loss": loss.detach(), "grad_norm": grad_norm.detach()}

    def update_target(self, tau: float) -> None:
        with torch.no_grad():
            for mine, theirs in zip(
                self.target.parameters(), self.online.parameters(), strict=True
            ):
                if tau >= 1.0:
                    mine.copy_(theirs)
                else:
                    mine.lerp_(theirs, tau)

    # --- network evaluation -----------------------------------------------------------

    def _evaluate(self, batch: Batch) -> tuple[Tensor, Tensor, Tensor]:
        """Online outputs at each step, and online/target outputs at each step's next state.

        Outputs are Q-values ``[batch, time, actions]``, or per-atom logits
        ``[batch, time, actions, atoms]`` for distributional heads.
        """
        noise = {"noise": True, "generator": self.generator} if self.online.noisy else {}
        if not self.recurrent:
            with torch.no_grad():
                target_next = self._outputs(self.target, batch.next_obs, noise)
            if not self.learning["double_dqn"]:  # the target network also picks the action
                return self._outputs(self.online, batch.obs, noise), target_next, target_next
            # One online pass over states and next states together (fewer, larger ops).
            both = self._outputs(self.online, torch.cat([batch.obs, batch.next_obs], 1), noise)
            now, online_next = both.split(batch.obs.shape[1], dim=1)
            return now, online_next.detach(), target_next
        # The observations of a window followed by the last step's next state: position
        # i + 1 holds the next state of step i (within the window's first episode).
        sequence = torch.cat([batch.obs[:, :1], batch.next_obs], dim=1)
        h, c = batch.hidden  # type: ignore[misc]
        with torch.no_grad():
            target_all, _, _ = self._sequence(self.target, sequence, h, c, noise)
        # The online network reads the last next state only to choose actions (double
        # DQN); without it, the window's own steps are all it needs.
        double = self.learning["double_dqn"]
        steps = sequence if double else sequence[:, :-1]
        # Burn-in as in R2D2: it only warms the state up, so no gradient flows through it
        # (its steps are not trained on; this saves about a third of the backward pass).
        burn_in = self.learning["sequence"]["burn_in"]
        if burn_in:
            with torch.no_grad():
                warm, h, c = self._sequence(self.online, steps[:, :burn_in], h, c, noise)
            rest, _, _ = self._sequence(self.online, steps[:, burn_in:], h, c, noise)
            online_all = torch.cat([warm, rest], dim=1)
        else:
            online_all, _, _ = self._sequence(self.online, steps, h, c, noise)
        online_next = online_all[:, 1:].detach() if double else target_all[:, 1:]
        return online_all[:, : batch.obs.shape[1]], online_next, target_all[:, 1:]

    def _outputs(self, net: torch.nn.Module, obs: Tensor, noise: dict[str, Any]) -> Tensor:
        batch, time = obs.shape[:2]
        flat = obs.reshape(batch * time, -1)
        out = net.q_logits(flat, **noise) if net.distributional else net(flat, **noise)
        return out.reshape(batch, time, *out.shape[1:])

    def _sequence(
        self, net: torch.nn.Module, obs: Tensor, h: Tensor, c: Tensor, noise: dict[str, Any]
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Outputs over ``obs`` ``[batch, time, ...]`` from state ``(h, c)``, and the state
        after it."""
        if net.distributional:
            return net.q_logits(obs, h, c, **noise)
        return net.forward_sequence(obs, h, c, **noise)

    def _expected(self, outputs: Tensor) -> Tensor:
        """Q-values from outputs (the expectation of the atoms for distributional heads)."""
        if not self.online.distributional:
            return outputs
        support = self.head.support(outputs)
        return (torch.softmax(outputs, dim=-1) * support).sum(-1)

    def _c51_loss(
        self, logits: Tensor, target_logits: Tensor, batch: Batch, targets: Any, action: Tensor
    ) -> Tensor:
        support = self.head.support(logits)
        with torch.no_grad():
            next_probs = torch.softmax(target_logits, dim=-1)
            chosen = _at(next_probs, targets.last, action)
            projected = project_distribution(chosen, targets.returns, targets.discount, support)
        log_probs = torch.log_softmax(logits, dim=-1)
        taken = torch.gather(
            log_probs, 2, batch.actions[..., None, None].expand(-1, -1, 1, log_probs.shape[-1])
        ).squeeze(2)
        return -(projected * taken).sum(-1)

    # --- persistence ------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "gradient_steps": self.gradient_steps,
            "replay": self.replay.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.gradient_steps = int(state["gradient_steps"])
        self.replay.load_state_dict(state["replay"])


def _first_step(batch: Batch, targets: NStep) -> tuple[Batch, NStep]:
    """A feed-forward window cut down to its first step, whose next state becomes the
    one its n-step return bootstraps from (``targets.last``): what the loss reads of a
    window of ``n``, for ``1 / n`` of the networks' work."""
    last = targets.last[:, :1]
    at_last = lambda t: torch.gather(t, 1, last[..., None].expand(-1, -1, t.shape[-1]))  # noqa: E731
    first = lambda t: t[:, :1]  # noqa: E731
    cut = replace(
        batch, obs=first(batch.obs), actions=first(batch.actions), rewards=first(batch.rewards),
        next_obs=at_last(batch.next_obs), next_mask=at_last(batch.next_mask),
        terminal=first(batch.terminal), end=first(batch.end), length=first(batch.length),
    )  # fmt: skip
    return cut, NStep(first(targets.returns), first(targets.discount), torch.zeros_like(last))


def _at(next_probs: Tensor, last: Tensor, action: Tensor) -> Tensor:
    """``next_probs[b, last[b, i], action[b, i]]``: the next-state distribution of the
    chosen action, at each position's bootstrap step. -> ``[batch, time, atoms]``."""
    atoms = next_probs.shape[-1]
    at_last = torch.gather(
        next_probs, 1, last[..., None, None].expand(-1, -1, next_probs.shape[2], atoms)
    )
    return torch.gather(at_last, 2, action[..., None, None].expand(-1, -1, 1, atoms)).squeeze(2)

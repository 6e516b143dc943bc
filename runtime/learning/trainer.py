"""The training loop: agents act in the town, remember, and learn; one step at a time.

:meth:`Trainer.step` is one environment step for every agent, read top to bottom:
act (epsilon-greedy among valid actions, recurrent brains carrying their hidden
state through the episode), step the world, store the transitions, learn every
``train_frequency`` steps (the agents act with the weights from before the gradient
step in progress, so that it may run beside them: :mod:`.pipeline`), and close the
episodes that ended (statistics, exploration schedules, curriculum, reset). Everything
random draws from generators seeded from the run's seed, and :meth:`Trainer.checkpoint`
(from resume.py) captures all of it, so that a resumed run continues exactly as an
uninterrupted one would.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.model import HamletModel
from hamlet.runtime.telemetry import EpisodeRecorder
from hamlet.runtime.world import TownWorld
from hamlet.schemas import Pack

from .curriculum import AdversarialCurriculum
from .demonstrations import Demonstrators
from .dqn import DQNLearner
from .episode import Episode
from .exploration import EpsilonSchedule, Excursions, IntrinsicWeight
from .pairs import InteractionPairs
from .phases import PhaseClock
from .pipeline import LearnerProcess, copy_tensors, module_tensors
from .resume import Resumable
from .rnd import RND


class Trainer(Resumable):
    """Owns the world, the model and everything that learns; steps them together."""

    def __init__(
        self,
        pack: Pack,
        model: HamletModel,
        *,
        num_agents: int = 1,
        seed: int = 0,
        device: str | torch.device = "cpu",
        episodes: int | None = None,
        learner_process: bool = False,
    ) -> None:
        self.pack = pack
        self.model = model
        self.num_agents = num_agents
        self.device = torch.device(device)
        env = pack.training.environment
        explore = pack.training.exploration
        # One generator per purpose, each from the run's seed: acting never shifts what
        # the world or the replay draws, so every part is reproducible on its own.
        first = world_seed(seed)
        self.act_generator = torch.Generator(self.device).manual_seed(first + 1)
        self.world = TownWorld(pack, num_agents=num_agents, device=self.device, seed=first)
        self.learner = DQNLearner(
            model, num_agents, generator=torch.Generator(self.device).manual_seed(first + 2)
        )
        self.rnd = (
            RND(
                model.obs_dim,
                embed_dim=explore.rnd.embed_dim,
                hidden=list(explore.rnd.hidden),
                learning_rate=explore.rnd.learning_rate,
                seed=first + 3,
                train_every=explore.rnd.train_every,
                device=self.device,
            )
            if explore.rnd.enabled
            else None
        )
        self.learner.intrinsic = self._intrinsic_reward if self.rnd is not None else None
        # The agents act with the weights from before the gradient step in progress: a
        # copy of the online network, brought up to date at each gradient step (below).
        self.acting = HamletModel(copy.deepcopy(model.module), model.brain, model.metadata)
        self.acting.module.train(model.module.training)
        self._acting = module_tensors(self.acting.module)
        self._online = module_tensors(model.module)
        self.learner_process = learner_process
        """Take the gradient steps in a second process (:mod:`.pipeline`), from the
        first one on; the results are the same either way."""
        self._process: LearnerProcess | None = None
        self._weight = 0.0
        """The intrinsic weight of the gradient step in progress."""
        self.epsilon = EpsilonSchedule(explore.epsilon, num_agents)
        repeat = explore.epsilon.repeat
        self.excursions = None if repeat is None else Excursions(repeat, num_agents, self.device)
        """Random actions kept for several steps (``exploration.epsilon.repeat``), or None."""
        shown = explore.demonstrations
        self.demonstrators = None if shown is None else Demonstrators(shown, self.world)
        """Agents acting by the hand-written policy (``exploration.demonstrations``), or None."""
        self.intrinsic = IntrinsicWeight(explore.intrinsic)
        self.curriculum = AdversarialCurriculum(pack.training.curriculum, env.max_steps_per_episode)
        self.max_episodes = episodes or pack.training.run.max_episodes
        """The run's episode budget (default: the pack's ``run.max_episodes``)."""
        self.progress = 0.0
        """How far the run is through its budget, 0 to 1: episodes over
        ``run.max_episodes`` unless the runner, who knows the run's own budget
        (``--episodes``, ``--agent-steps``, ``--minutes``), says more (:meth:`advance`).
        Epsilon (``fraction``) and prioritized replay's beta follow it."""
        self.train_frequency = model.spec["learning"]["train_frequency"]
        prioritized = model.spec["learning"]["replay"]["prioritized"]
        self.beta0 = prioritized["beta"] if prioritized else 1.0

        self.env_steps = 0
        self.episodes_done = 0
        self.obs = self.world.reset()
        self.hidden = model.initial_state(num_agents)
        self.multiplier = torch.full((num_agents,), self.curriculum.multiplier, device=self.device)
        self.stage = torch.full((num_agents,), self.curriculum.stage, device=self.device)
        self._episode_reward = torch.zeros(num_agents, device=self.device)
        self._episode_entropy = torch.zeros(num_agents, device=self.device)
        self._pairs = InteractionPairs(self.world.vocabulary, num_agents, self.device)
        self._mask = self.world.action_mask()
        self._stats: dict[str, Tensor] = {}
        """The loss and gradient norm of the last finished gradient step."""
        self._pending_stats: dict[str, Tensor] = {}
        """Those of the gradient step in progress (learning here: the last one taken)."""
        self.recorder: EpisodeRecorder | None = None
        """Records one agent's steps for viewers and recordings (set by the runner)."""
        self.phases = PhaseClock()
        """Where the time goes: each step laps its phases (act, world, store, learn, rnd,
        record); the runner laps its own (record, evaluate) on the same clock."""

    # --- one environment step -------------------------------------------------------

    def step(self) -> list[Episode]:
        """Advance every agent by one step; returns the episodes that ended."""
        model, world, phases = self.model, self.world, self.phases
        phases.lap("other")  # what happened since the last step (the runner's own work)

        # --- act: epsilon-greedy among the valid actions ---------------------------
        mask = self._mask
        hidden_before = self.hidden
        excursions = self.excursions
        acted = self.acting.predict(
            self.obs,
            hidden_before,
            epsilon=self.epsilon.value if excursions is None else 0.0,
            action_mask=mask,
            generator=self.act_generator,
            noise=bool(model.module.noisy),
        )
        if excursions is not None:  # the greedy actions, where no excursion goes on
            acted["actions"] = excursions.choose(
                acted["actions"], mask, self.epsilon.value, self.act_generator
            )
        if self.demonstrators is not None:  # the heuristic's actions, for its agents
            acted["actions"] = self.demonstrators.choose(acted["actions"], self.obs, mask)
        actions = acted["actions"]
        entropy = self.epsilon.entropy_table(self.model.num_actions, self.device)
        self._episode_entropy += entropy.take(mask.sum(-1))
        phases.lap("act")

        # --- the world moves --------------------------------------------------------
        result = world.step(actions, self.multiplier)
        ended = result.done | result.truncated
        phases.lap("world")
        if self.recorder is not None:
            self._record(mask, acted, result, ended)
            phases.lap("record")

        # --- remember: every agent's transition, with the state it acted from --------
        self._mask = world.action_mask()  # (also the next step's, unless an agent resets)
        step = (self.obs, actions, result.reward, result.obs, self._mask, result.done, ended)
        if self._process is None:
            self.learner.replay.add(*step, hidden_before)
        else:  # for the learner process, at the next gradient step
            self._process.staged.add(*step, hidden=hidden_before)
        self._episode_reward += result.reward
        self._pairs.count(result.interactions)
        phases.lap("store")

        # --- learn ------------------------------------------------------------------
        self.env_steps += 1
        if self.env_steps % self.train_frequency == 0 and self.ready_to_learn:
            self._learn(beta=self.beta0 + (1 - self.beta0) * self.progress)
            phases.lap("learn")

        # --- close finished episodes, then carry on from fresh states ----------------
        self.obs = result.obs
        self.hidden = acted["hidden"]
        # The step's one wait for the device: which episodes ended decides what Python
        # does next (statistics, schedules, the curriculum, resets).
        if not bool(ended.any()):
            return []
        return self._close(ended, result)

    @property
    def ready_to_learn(self) -> bool:
        """Enough steps are stored for gradient steps to begin."""
        return self._process is not None or self.learner.ready

    def _learn(self, beta: float) -> None:
        """A gradient step: the agents take the weights of the one before, which has
        finished, and the next begins (here, or in the learner process)."""
        weight = self.intrinsic.value if self.rnd is not None else 0.0
        if self._process is None and self.learner_process:
            self._process = LearnerProcess(self)
        if self._process is not None:
            finished = self._process.learn(self._acting, beta, weight)
            if finished is not None:
                self._pending_stats = {"loss": finished[0], "grad_norm": finished[1]}
            self._stats = self._pending_stats
            return
        copy_tensors(self._acting, self._online)
        self._stats = self._pending_stats
        self._pending_stats = self.gradient_step(beta, weight)

    def gradient_step(self, beta: float, weight: float) -> dict[str, Tensor]:
        """One step of the learner, with novelty weighted by ``weight`` (run by the
        learner process too)."""
        self._weight = weight
        return self.learner.learn(beta=beta)

    @property
    def pending_stats(self) -> dict[str, Tensor]:
        """The loss and gradient norm of the gradient step in progress (it finishes)."""
        if self._process is not None and self._process.started:
            self._process.settle()
            return {
                "loss": self._process.stats[0].clone(),
                "grad_norm": self._process.stats[1].clone(),
            }
        return self._pending_stats

    @property
    def gradient_steps(self) -> int:
        """Gradient steps taken (with a learner process: begun)."""
        return (
            self.learner.gradient_steps if self._process is None else self._process.gradient_steps
        )

    def settle(self) -> None:
        """Bring :attr:`model` up to the last gradient step, for saving or evaluating it
        (with a learner process, the one in progress finishes first)."""
        if self._process is not None:
            self._process.settle()
            copy_tensors(self._online, self._process.weights)

    def close(self) -> None:
        """End the learner process, if there is one (after :meth:`settle` and a last
        checkpoint: the trainer cannot learn any more)."""
        if self._process is not None:
            self._process.close()

    def advance(self, progress: float) -> None:
        """The run is ``progress`` (0 to 1) of the way through its budget; it only moves on."""
        if progress > self.progress:
            self.progress = min(1.0, progress)
            self.epsilon.advance(self.progress)

    @property
    def last_stats(self) -> dict[str, float]:
        """The last gradient step's loss and gradient norm (read from the device only
        when asked: at the end of an episode, for the metrics and the display)."""
        return {name: float(value) for name, value in self._stats.items()}

    def _close(self, ended: Tensor, result: Any) -> list[Episode]:
        episodes = []
        finished = torch.nonzero(ended).flatten()
        pairs = self._pairs.of(finished)
        # The finished agents' figures, each read from the device once for all of them.
        columns = (
            self.world.step_count, self._episode_entropy, self._episode_reward, self.stage,
            self.multiplier,
        )  # fmt: skip
        agents = finished.tolist()
        rows = zip(
            agents, result.outcomes(finished), *(t[finished].tolist() for t in columns),
            strict=True,
        )  # fmt: skip
        demonstrators = self.demonstrators
        for agent, outcome, survived, entropy_sum, reward, stage, multiplier in rows:
            if demonstrators is not None and demonstrators.flags[agent]:
                continue  # a demonstration: its steps are in the replay, and that is all
            entropy = entropy_sum / max(1, survived)
            episode = Episode(
                number=self.episodes_done,
                agent=agent,
                steps=survived,
                reward=reward,
                outcome=outcome,
                stage=stage,
                multiplier=multiplier,
                epsilon=self.epsilon.value,
                intrinsic_weight=self.intrinsic.value if self.rnd is not None else 0.0,
                entropy=entropy,
                affordance_transitions=pairs[agent],
            )
            transition = self.curriculum.episode_done(self.episodes_done, survived, entropy, stage)
            if transition is not None and transition.reason == "advance":
                self.epsilon.stage_advanced(self.progress)
            self.epsilon.episode_done()
            self.intrinsic.episode_done(survived)
            self.episodes_done += 1
            self.advance(self.episodes_done / max(1, self.max_episodes))
            episodes.append(episode.with_transition(transition))
            if self.recorder is not None and agent == self.recorder.agent:
                with self.phases.counting("record"):
                    self._finish_recording(episode)
        # Fresh episodes start at the curriculum's current stage, with empty memory. The
        # replay holds copies of the observations, so the reset may rewrite them in place.
        self.obs = self.world.reset(ended, obs=self.obs)
        self.multiplier[ended] = self.curriculum.multiplier
        self.stage[ended] = self.curriculum.stage
        self._episode_reward[ended] = 0.0
        self._episode_entropy[ended] = 0.0
        self._pairs.forget(ended)
        if demonstrators is not None:
            demonstrators.episodes_started(agents, self.progress)
        if self.excursions is not None:
            self.excursions.forget(ended)
        self._mask = self.world.action_mask()
        if self.hidden is not None:
            keep = ~ended.view(1, -1, 1)
            self.hidden = tuple(torch.where(keep, t, torch.zeros_like(t)) for t in self.hidden)
        return episodes

    def _record(self, mask: Tensor, acted: dict[str, Any], result: Any, ended: Tensor) -> None:
        assert self.recorder is not None
        self.recorder.record_step(
            mask, acted["actions"], acted["q_values"], result.reward, ended,
            self.epsilon.value, result.obs if self.rnd is not None else None,
            result.interactions,
        )  # fmt: skip

    def _finish_recording(self, episode: Episode) -> None:
        assert self.recorder is not None
        self.recorder.finish_episode(
            self._recorded_novelty if self.rnd is not None else None,
            episode=episode.number,
            stage=episode.stage,
            multiplier=episode.multiplier,
            epsilon=episode.epsilon,
            intrinsic_weight=episode.intrinsic_weight,
            outcome=episode.outcome,
        )

    def _recorded_novelty(self, next_obs: Tensor) -> Tensor:
        """Weighted novelty of a recorded episode's next states, read without learning."""
        assert self.rnd is not None
        novelty = self.rnd if self._process is None else self._process
        return novelty.novelty(next_obs) * self.intrinsic.value

    def _intrinsic_reward(self, next_obs: Tensor) -> Tensor:
        """The weighted novelty of next states, for the learner's targets (weighted once)."""
        assert self.rnd is not None
        self.phases.lap("learn")  # (the learner calls this in the middle of its step)
        flat = next_obs.reshape(-1, next_obs.shape[-1])
        reward = (self.rnd.reward(flat) * self._weight).reshape(next_obs.shape[:-1])
        self.phases.lap("rnd")
        return reward

    def episodes(self, count: int) -> Iterator[Episode]:
        """Step until ``count`` more episodes have ended, yielding each as it ends."""
        target = self.episodes_done + count
        while self.episodes_done < target:
            yield from self.step()


def world_seed(seed: int) -> int:
    """The seed of the world a run with ``seed`` trains in: with a fixed layout, it
    decides the run's town. Acting, learning and RND draw from the next three."""
    return seed * 4

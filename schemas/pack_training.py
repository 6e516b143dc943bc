"""Typed model of a config pack's ``training.yaml``: environment, curriculum, exploration, run.

It mirrors ``training.schema.json`` (same keys, same defaults; a test keeps them in
sync). The brain's network and its learning hyperparameters are in brain.yaml.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .pack_world import ConfigModel, MeterAmounts


class ActionCosts(ConfigModel):
    """Meter costs of each kind of action, applied exactly as written."""

    move: MeterAmounts
    """Costs of one step UP, DOWN, LEFT or RIGHT."""
    wait: MeterAmounts
    """Costs of one WAIT; its energy cost is below a move's."""
    interact: MeterAmounts = Field(default_factory=dict)
    """Costs of one INTERACT, on top of the affordance's own."""


class Environment(ConfigModel):
    """The town: size, what the agent sees, which affordances exist, what actions cost."""

    grid_size: int
    """Cells on each side of the square grid."""
    observability: Literal["full", "partial"] = "full"
    """``full``: the whole grid; ``partial``: a window around the agent plus its position."""
    vision_range: int = 2
    """Cells visible in each direction under partial observability."""
    temporal_mechanics: bool = False
    """Day clock, opening hours and multi-tick interactions."""
    enabled_affordances: Literal["all"] | tuple[str, ...] = "all"
    """Affordances placed on the grid: ``all`` or names from affordances.yaml."""
    agent_lifespan: int = 1000
    """Age in steps at which the agent retires (+1.0 reward)."""
    max_steps_per_episode: int = 500
    """Steps after which an episode is cut off (not a death)."""
    affordance_layout: Literal["fixed", "per_episode"] = "fixed"
    """Place affordances once per run (from the seed) or at every reset."""
    action_costs: ActionCosts
    """Meter costs of moving, waiting and interacting."""


class Stage(ConfigModel):
    """One curriculum stage and what it changes."""

    name: str
    """Short name shown in logs and the viewer."""
    depletion_multiplier: float
    """Factor on every meter's base depletion (1.0 is full difficulty)."""
    description: str = ""
    """One line saying what the stage is meant to teach."""


class Curriculum(ConfigModel):
    """How difficulty follows the agent's progress, decided once per completed episode."""

    kind: Literal["adversarial", "static"] = "adversarial"
    """``adversarial`` advances and retreats; ``static`` stays at ``initial_stage``."""
    window: int = 100
    """Recent completed episodes whose mean survival fraction decides a move."""
    advance_survival: float = 0.7
    """Mean survival fraction (steps / max_steps_per_episode) above which it advances."""
    retreat_survival: float = 0.3
    """Mean survival fraction below which it retreats."""
    entropy_gate: float = 0.5
    """Normalized policy entropy that must be undercut to advance."""
    min_episodes_at_stage: int = 100
    """Completed episodes to play at a stage before it may change."""
    initial_stage: int = 1
    """Stage (1-based) a run starts at."""
    stages: tuple[Stage, ...]
    """Stages from easiest to hardest."""


class OnAdvance(ConfigModel):
    """Exploring again after the curriculum advances a stage."""

    value: float
    """Epsilon right after an advance (if the schedule's own value is lower)."""
    fraction: float
    """Share of the run's budget over which it falls back to the schedule's value."""


class Repeat(ConfigModel):
    """Temporally extended exploration: a random action is kept for several steps."""

    mu: float = 2.0
    """Exponent of the length's zeta distribution: P(n) is proportional to n ** -mu."""
    max: int = 10
    """The longest a random action is kept, in steps."""


class Epsilon(ConfigModel):
    """Epsilon-greedy schedule: linear over a ``fraction`` of the run's budget, or
    ``max(min, epsilon * decay)`` after every episode of each agent (set one of the two;
    neither means ``decay`` 0.99)."""

    start: float = 1.0
    """Probability of a random action at the start of the run."""
    fraction: float | None = None
    """Share of the run's budget over which epsilon falls linearly from start to min."""
    decay: float | None = None
    """Factor applied after each episode of each agent."""
    min: float = 0.01
    """Floor of epsilon."""
    on_advance: OnAdvance | None = None
    """Explore again after each advance of the curriculum (None: no change)."""
    repeat: Repeat | None = None
    """Keep each random action for a random number of steps (None: one step)."""

    @property
    def per_episode_decay(self) -> float | None:
        """The per-episode factor, or None when epsilon follows the budget."""
        if self.fraction is not None:
            return None
        return 0.99 if self.decay is None else self.decay


class Rnd(ConfigModel):
    """Random Network Distillation: novelty = error of a trained predictor vs a frozen net."""

    enabled: bool = True
    """False trains on the extrinsic reward alone."""
    embed_dim: int = 128
    """Output size of both RND networks."""
    hidden: tuple[int, ...] = (256, 128)
    """Hidden layer sizes of both RND networks."""
    learning_rate: float = 0.0001
    """Adam learning rate of the predictor (which trains on each replayed batch)."""
    train_every: int = 1
    """The predictor trains on every ``train_every``-th replayed batch; the novelty of
    every batch is still read (1: every batch)."""


class Intrinsic(ConfigModel):
    """Weight of the novelty bonus, annealed once survival is consistent."""

    initial_weight: float = 0.1
    """Weight at the start of the run."""
    min_weight: float = 0.0
    """Floor of the weight."""
    decay_rate: float = 0.99
    """Factor applied when an episode passes the annealing test."""
    variance_threshold: float = 100
    """Survival-steps variance over the window below which survival is consistent."""
    survival_window: int = 100
    """Recent completed episodes the annealing test looks at."""
    min_mean_survival: float = 50
    """Mean survival steps over the window above which the weight may anneal."""


class Demonstrations(ConfigModel):
    """Some of the run's agents follow the hand-written policy (``hamlet eval``'s
    heuristic) instead of the network; their steps go to the shared replay."""

    share: float
    """Share of the run's agents that demonstrate, rounded down (0.125: 2 of 16, none
    of fewer than 8); the last agents are the demonstrators."""
    until: float = 1.0
    """Share of the run's budget during which they demonstrate (1.0: the whole run);
    each then plays on as a learner from its next episode."""


class Exploration(ConfigModel):
    """Epsilon-greedy actions plus an RND novelty bonus."""

    epsilon: Epsilon
    """The epsilon schedule."""
    rnd: Rnd
    """The novelty networks."""
    intrinsic: Intrinsic
    """The weight of the novelty bonus."""
    demonstrations: Demonstrations | None = None
    """Agents that show the hand-written policy's way (None: every agent learns)."""


class Run(ConfigModel):
    """Length of the run, its seed and its checkpoints."""

    max_episodes: int
    """Episodes to train for."""
    agents: int = 1
    """Agents acting at once (what ``hamlet run`` uses without ``--agents``)."""
    seed: int = 0
    """Seed of every random choice; the same seed gives the same run."""
    checkpoint_every: int = 1000
    """Episodes between two checkpoints."""
    keep_checkpoints: int = 5
    """Most recent checkpoints kept on disk (0 keeps all)."""


class Recording(ConfigModel):
    """Which episodes are written to disk for replay."""

    enabled: bool = False
    """Record episodes for ``hamlet replay``."""
    periodic_every: int = 100
    """Record the watched agent's first episode in every block of this many (0: never)."""
    transition_before: int = 2
    """Record the watched agent's last episodes before each curriculum change."""
    transition_after: int = 3
    """...and its first ones after it."""
    extremes_window: int = 100
    """Record the best and the worst (by reward) of every this many watched episodes
    (0: never)."""
    stage_first: int = 3
    """Record the watched agent's first episodes at each stage."""


class Evaluation(ConfigModel):
    """The greedy policy at a fixed difficulty, every so many episodes (the learning curve)."""

    every_episodes: int = 100
    """Evaluate after every this-many training episodes, and at the run's end (0: never)."""
    episodes: int = 16
    """Episodes each evaluation plays, side by side in one world."""
    multiplier: float = 1.0
    """Depletion multiplier the evaluation plays at (1.0: full difficulty)."""


class Training(ConfigModel):
    """The contents of ``training.yaml`` (brain.yaml holds the network and its learning)."""

    version: Literal[1]
    """Format version of the file."""
    environment: Environment
    """The town."""
    curriculum: Curriculum
    """The difficulty schedule."""
    exploration: Exploration
    """How the agent explores."""
    run: Run
    """Length, seed and checkpoints of the run."""
    recording: Recording = Recording()
    """Episode recording (off unless configured)."""
    evaluation: Evaluation = Evaluation()
    """Periodic greedy evaluation during training."""

"""Learning: everything that turns experience into a better brain, one step at a time.

Modules: :mod:`.trainer` (``Trainer``: one environment step for every agent, read top to
bottom: act, the world, store, learn, close episodes; exact resume), :mod:`.episode`
(what a finished episode reports), :mod:`.dqn` (the DQN family's gradient step),
:mod:`.replay` (uniform and prioritized replay, recurrent windows), :mod:`.targets`
(n-step returns, C51's projection), :mod:`.rnd` (novelty), :mod:`.exploration` (epsilon
and the novelty weight), :mod:`.curriculum` (the adversarial curriculum), :mod:`.pairs`
(which affordance follows which), :mod:`.phases` (where the time goes), and
:mod:`.pipeline` and :mod:`.forked` (gradient steps in a second process; the helper
processes' pipe).

Imports: :mod:`hamlet.runtime.telemetry`, :mod:`hamlet.runtime.world`,
:mod:`hamlet.runtime.model` and the helpers below them; nothing of runs, experiments,
the viewer or the CLI.
"""

"""Experiments: many runs, and what they say together.

Modules: :mod:`.sweep` (``hamlet sweep``: packs x settings x seeds as ordinary run
directories beside a manifest, on local worker processes or Ray), :mod:`.stats` (IQM,
stratified bootstrap confidence intervals, probability of improvement), :mod:`.groups`
(finding runs, grouping them by pack and config snapshot), :mod:`.compare`
(``hamlet compare``: the groups' scores over seeds), :mod:`.curves` (learning curves: each
run on one grid, the IQM over seeds) and :mod:`.plots` (drawing them as PNG/SVG or in the
terminal; ``hamlet plot``).

Imports: :mod:`hamlet.runtime.runs` and the rooms below it; only the viewer and the CLI
stand above it.
"""

"""Experiments: many runs, and what they say together.

Modules: :mod:`.sweep` (``hamlet sweep``: packs x settings x seeds as ordinary run
directories beside a manifest, on local worker processes or Ray), :mod:`.stats` (IQM,
stratified bootstrap confidence intervals, probability of improvement), :mod:`.compare`
(``hamlet compare``: runs grouped by their settings) and :mod:`.plots` (learning curves,
as PNG/SVG or in the terminal; ``hamlet plot``).

Imports: :mod:`hamlet.runtime.runs` and the rooms below it; only the viewer and the CLI
stand above it.
"""

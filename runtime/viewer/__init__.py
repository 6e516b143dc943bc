"""The viewer: watch an agent play its episodes in the town, step by step.

:class:`ViewerApp` (a Textual app: :mod:`.app`, drawn by :mod:`.render` and
:mod:`.panels`, timed by :mod:`.playback`, over the episode data of :mod:`.model`) reads
an async source of stream messages (``schemas/stream.schema.json``: ``hello``,
``episode``, ``stats``, ``end``; and local ``connection`` notes) and plays the episodes
back; :func:`iter_messages` turns a plain list of messages into such a source.
:mod:`.watch` holds the entry points of ``hamlet watch``, ``hamlet replay`` and
``hamlet run --watch``: a live stream, a checkpoint playing, or a run's recordings.

Imports: every room below it (runs, learning, telemetry, world, model); only the CLI
imports the viewer.
"""

from __future__ import annotations

from .app import ViewerApp
from .source import iter_messages

__all__ = ["ViewerApp", "iter_messages"]

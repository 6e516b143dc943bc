"""The terminal viewer: watch an agent play its episodes in the town, step by step.

:class:`ViewerApp` reads an async source of stream messages (``schemas/stream.schema.json``:
``hello``, ``episode``, ``stats``, ``end``; and local ``connection`` notes) and plays the
episodes back; :func:`iter_messages` turns a plain list of messages into such a source.
"""

from __future__ import annotations

from .app import ViewerApp
from .source import iter_messages

__all__ = ["ViewerApp", "iter_messages"]

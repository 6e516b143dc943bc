"""What a run emits while it trains, for people to watch: the watched agent's episodes.

Modules: :mod:`.recorder` (``EpisodeRecorder``: the watched agent's steps, as episode
messages of ``schemas/stream.schema.json``), :mod:`.recordings` (which episodes are kept,
and how they are written to a run directory; reading them back is
:mod:`hamlet.runtime.runs.recordings`) and :mod:`.streaming` (the WebSocket
stream server, and the viewer's side of a stream).

Imports: :mod:`hamlet.runtime.world`, :mod:`hamlet.runtime.model` and the helpers below
them; nothing of learning, runs or the viewer. The trainer calls into this room, never
the other way round.
"""

from .recorder import EpisodeRecorder, affordance_symbols, hello_message
from .recordings import RecordingSelector, RecordingWriter
from .streaming import EpisodeQueue, StreamServer, websocket_source

__all__ = [
    "EpisodeQueue",
    "EpisodeRecorder",
    "RecordingSelector",
    "RecordingWriter",
    "StreamServer",
    "affordance_symbols",
    "hello_message",
    "websocket_source",
]

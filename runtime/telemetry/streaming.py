"""Live episodes from the trainer to any number of viewers, never slowing training.

::

    trainer thread                       server thread (asyncio)
    EpisodeRecorder --put--> EpisodeQueue --pump--> per-viewer buffers --send--> viewers
                    (never blocks; a full         (bounded; a slow viewer loses its
                     queue drops and counts)       oldest messages, nobody waits)

:class:`EpisodeQueue` holds at most 10 episodes. :class:`StreamServer` serves WebSocket
on 127.0.0.1 and sends each viewer a hello, then every episode and the training
stats, as JSON text messages defined by ``schemas/stream.schema.json``. Each message
is encoded once, whatever the number of viewers. :func:`websocket_source` is the
viewer's side: the messages of a server, with the connection's state in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

Message = dict[str, Any]
QUEUE_SIZE = 10
VIEWER_BUFFER = 4
"""Messages waiting for one viewer; beyond that its oldest are dropped (and counted)."""
MAX_MESSAGE = 64 * 1024 * 1024


class EpisodeQueue:
    """A bounded hand-over from the training thread: :meth:`put` never blocks."""

    def __init__(self, maxsize: int = QUEUE_SIZE) -> None:
        self._queue: queue.Queue[Message] = queue.Queue(maxsize)
        self.dropped = 0
        """Episodes put while the queue was full, and so never streamed."""
        self.on_put: Callable[[], Any] | None = None
        """Called after each accepted put (the server's wake-up: it never polls)."""

    def put(self, message: Message) -> bool:
        """Hand over ``message``; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self.dropped += 1
            return False
        if self.on_put is not None:
            self.on_put()
        return True

    __call__ = put  # an EpisodeRecorder's live_stream_callback

    def get(self, timeout: float | None = None) -> Message | None:
        """The oldest episode, waiting at most ``timeout`` seconds (None if none came)."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def __len__(self) -> int:
        return self._queue.qsize()


@dataclass(eq=False)
class _Viewer:
    connection: ServerConnection
    buffer: deque[str | Message] = field(default_factory=lambda: deque(maxlen=VIEWER_BUFFER))
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    closed: bool = False
    sending: bool = False

    @property
    def idle(self) -> bool:
        """Nothing buffered for it and nothing on its way out."""
        return not self.buffer and not self.sending

    def offer(self, item: str | Message) -> None:
        if len(self.buffer) == self.buffer.maxlen:
            self.dropped += 1  # the deque forgets its oldest
        self.buffer.append(item)
        self.ready.set()


class StreamServer:
    """Broadcasts a stream to every connected viewer from a thread of its own.

    ``start(hello)`` binds (``port=0`` picks a free port, then in :attr:`port`);
    :meth:`publish_stats` and :meth:`finish` may be called from any thread.
    """

    def __init__(
        self,
        episodes: EpisodeQueue,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        viewer_buffer: int = VIEWER_BUFFER,
        on_start: Callable[[str], Any] | None = None,
    ) -> None:
        self.episodes = episodes
        self.on_start = on_start
        """Called with :attr:`url` once serving (e.g. to tell the user where)."""
        self.host = host
        self.port = port
        self.viewer_buffer = viewer_buffer
        self.viewers: set[_Viewer] = set()
        self.sent = 0
        self._hello = ""
        self._stats: Message | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._end_reason: str | None = None
        self._wake: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self, hello: Message) -> StreamServer:
        """Serve in a background thread; returns once the port is bound."""
        self._hello = _encode(hello)
        self._thread = threading.Thread(target=self._serve_forever, name="hamlet-stream")
        self._thread.daemon = True
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        if self.on_start is not None:
            self.on_start(self.url)
        return self

    def wait_started(self, timeout: float | None = None) -> bool:
        """Wait until :meth:`start` bound the port (or failed); True when serving."""
        return self._started.wait(timeout) and self._error is None

    def drain(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until every queued episode has been handed to the
        viewers' sockets: the trainer calls it before a long pause such as writing a
        checkpoint, so that viewers are not kept waiting by it. True if drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not len(self.episodes) and all(v.idle for v in list(self.viewers)):
                return True
            time.sleep(0.002)
        return False

    def publish_stats(self, stats: Message) -> None:
        """Send training figures to every viewer (each with its own drop count)."""
        message = {"type": "stats", **stats}
        self._call(self._broadcast, message)

    def close(self, reason: str | None = None) -> None:
        """Forward the episodes still queued, tell the viewers the stream ended
        (``reason``: completed or interrupted; none given, none told), stop serving."""
        self._end_reason = reason
        self._stopping.set()
        if self._wake is not None:
            self._call(self._wake.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> StreamServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the server thread -----------------------------------------------------------

    def _call(self, function: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(function, *args)

    def _serve_forever(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to start(), or lost at shutdown
            self._error = error
            self._started.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        wake = self._wake = asyncio.Event()
        # The trainer wakes the loop when it puts an episode: no thread polls the queue,
        # so an idle stream costs the trainer nothing (polling contended for the GIL).
        self.episodes.on_put = lambda: self._call(wake.set)
        async with serve(
            self._handle,
            self.host,
            self.port,
            compression=None,  # loopback: deflate would cost the trainer's CPU per viewer
            max_size=2**16,  # viewers only say little
        ) as server:
            self._server = server
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._started.set()
            await self._pump()
            if self._end_reason is not None:
                self._broadcast(_encode({"type": "end", "reason": self._end_reason}))
            await self._flush(timeout=2.0)
            for viewer in self.viewers:
                if viewer.buffer:  # still stalled: no closing handshake for it either
                    viewer.connection.transport.abort()
            server.close()
            await server.wait_closed()

    async def _pump(self) -> None:
        """Forward episodes from the queue as they come, until asked to stop (then drain
        what is left)."""
        wake = self._wake
        assert wake is not None
        while True:
            while (message := self.episodes.get(timeout=0)) is not None:
                self._broadcast(_encode(message))
            if self._stopping.is_set():
                return
            await wake.wait()
            wake.clear()

    async def _flush(self, timeout: float) -> None:
        """Give every viewer a moment to receive what is buffered for it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(v.buffer for v in self.viewers) and loop.time() < deadline:
            await asyncio.sleep(0.01)

    def _broadcast(self, item: str | Message) -> None:
        if isinstance(item, dict):
            self._stats = item
        for viewer in self.viewers:
            viewer.offer(item)

    async def _handle(self, connection: ServerConnection) -> None:
        viewer = _Viewer(connection, deque(maxlen=self.viewer_buffer))
        self.viewers.add(viewer)
        closing = asyncio.create_task(self._closing(viewer))
        try:
            await connection.send(self._hello)
            if self._stats is not None:
                viewer.offer(self._stats)
            while not viewer.closed:
                await viewer.ready.wait()
                viewer.ready.clear()
                while viewer.buffer:
                    item = viewer.buffer.popleft()
                    if isinstance(item, dict):  # stats: this viewer's own drop count
                        dropped = {"queue": self.episodes.dropped, "viewer": viewer.dropped}
                        item = _encode({**item, "dropped": dropped})
                    viewer.sending = True
                    await connection.send(item)
                    viewer.sending = False
                    self.sent += 1
        except ConnectionClosed:
            pass
        finally:
            self.viewers.discard(viewer)
            closing.cancel()

    @staticmethod
    async def _closing(viewer: _Viewer) -> None:
        """Wake the viewer's sender when its connection closes (it may be idle)."""
        await viewer.connection.wait_closed()
        viewer.closed = True
        viewer.ready.set()


def _encode(message: Message) -> str:
    return json.dumps(message, separators=(",", ":"))


async def websocket_source(url: str, *, retry: float = 1.0) -> AsyncIterator[Message]:
    """The messages of the stream at ``url``, with ``connection`` messages (connecting,
    connected, lost) in between; reconnects until the stream ends."""
    while True:
        yield {"type": "connection", "state": "connecting", "detail": url}
        try:
            async with connect(url, max_size=MAX_MESSAGE, compression=None) as connection:
                yield {"type": "connection", "state": "connected", "detail": url}
                async for text in connection:
                    message = json.loads(text)
                    yield message
                    if message.get("type") == "end":
                        yield {"type": "connection", "state": "closed", "detail": "stream ended"}
                        return
        except (TimeoutError, OSError, ConnectionClosed) as error:
            detail = str(error) or type(error).__name__
            yield {"type": "connection", "state": "lost", "detail": detail}
        await asyncio.sleep(retry)

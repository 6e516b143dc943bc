"""Message sources for the viewer that need no network: lists, recordings, tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any


async def iter_messages(messages: Iterable[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """Turn a list of messages into the async source :class:`ViewerApp` reads.

    Control goes back to the event loop after each message, so even a long replay is read
    without freezing the screen.
    """
    for message in messages:
        yield message
        await asyncio.sleep(0)

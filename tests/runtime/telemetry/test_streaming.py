"""The stream: a queue that never blocks the trainer, a server that never waits for a
viewer, and messages that follow schemas/stream.schema.json."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import jsonschema
import pytest
from websockets.asyncio.client import connect

from hamlet.runtime.runs import RunOptions, run_training
from hamlet.runtime.telemetry import EpisodeQueue, StreamServer, websocket_source

from ..conftest import STREAM_SCHEMA, tiny_pack

VALIDATOR = jsonschema.Draft202012Validator(STREAM_SCHEMA)
HELLO = {
    "type": "hello",
    "protocol": 1,
    "source": "training",
    "run": {"pack": "test", "run_dir": None, "seed": 0, "agents": 1, "model": None},
    "world": {
        "grid_size": 3, "meters": ["energy"], "actions": ["WAIT"],
        "affordances": [{"name": "Bed", "symbol": "B"}], "temporal": False, "max_steps": 9,
        "stages": 1,
    },
}  # fmt: skip


def episode(number: int, steps: int = 3) -> dict:
    """A schema-valid episode of ``steps`` steps."""
    return {
        "type": "episode", "episode": number, "agent": 0, "stage": 1, "multiplier": 1.0,
        "epsilon": 0.5, "intrinsic_weight": 0.0, "outcome": "died", "survival": steps,
        "reward": 1.0, "intrinsic_reward": 0.0, "finished_at": time.time(),
        "affordances": {"Bed": [1, 1]}, "visits": {},
        "steps": {
            "step": list(range(steps)), "position": [[0, 0]] * steps, "meters": [[0.5]] * steps,
            "action": [0] * steps, "reward": [0.1] * steps, "intrinsic_reward": [0.0] * steps,
            "done": [False] * (steps - 1) + [True], "q_values": [[0.0]] * steps,
            "epsilon": [0.5] * steps, "action_mask": [[True]] * steps, "time_of_day": None,
            "interaction_progress": None,
        },
    }  # fmt: skip


def test_the_queue_never_blocks_and_counts_what_it_drops():
    queue = EpisodeQueue(maxsize=10)
    accepted = [queue.put(episode(n)) for n in range(15)]
    assert accepted == [True] * 10 + [False] * 5 and queue.dropped == 5 and len(queue) == 10
    assert [queue.get(0)["episode"] for _ in range(10)] == list(range(10))
    assert queue.get(0.01) is None


async def _collect(url: str) -> list[dict]:
    """Everything a viewer gets, until the source itself stops (after the end)."""
    return [message async for message in websocket_source(url)]


def _gather(urls: list[str]) -> list[list[dict]]:
    async def main():
        return await asyncio.gather(*(_collect(url) for url in urls))

    return asyncio.run(main())


def test_every_viewer_gets_hello_episodes_stats_and_end_in_order():
    server = StreamServer(EpisodeQueue()).start(HELLO)
    assert server.port > 0  # port 0 asked for a free one
    results: list = []
    viewers = threading.Thread(target=lambda: results.extend(_gather([server.url] * 3)))
    viewers.start()
    deadline = time.monotonic() + 10
    while len(server.viewers) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    for n in range(5):
        server.episodes.put(episode(n))
        time.sleep(0.02)
    server.publish_stats(
        {
            "episodes": 5, "env_steps": 15, "agent_steps": 15, "agent_steps_per_second": 1.0,
            "epsilon": 0.5, "stage": 1, "loss": None, "recent_survival": 3.0, "time": 0.0,
        }
    )  # fmt: skip
    time.sleep(0.1)
    server.close("completed")
    viewers.join(10)
    assert len(results) == 3
    for received in results:
        stream = [m for m in received if m["type"] != "connection"]
        for message in stream:
            VALIDATOR.validate(message)
        kinds = [m["type"] for m in stream]
        assert kinds == ["hello"] + ["episode"] * 5 + ["stats", "end"]
        assert [m["episode"] for m in stream if m["type"] == "episode"] == list(range(5))
        assert stream[-2]["dropped"] == {"queue": 0, "viewer": 0}
        states = [m["state"] for m in received if m["type"] == "connection"]
        assert states == ["connecting", "connected", "closed"]


def test_a_stalled_viewer_slows_neither_the_queue_nor_the_other_viewers():
    server = StreamServer(EpisodeQueue(), viewer_buffer=4).start(HELLO)
    big = 1000  # steps: about 75 kB per message, to fill the socket buffers soon

    async def main():
        # a viewer that never reads: max_queue=1 stops it reading at once, and a small
        # receive buffer makes the kernel push back soon
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        stalled = await connect(server.url, max_queue=1, max_size=None, sock=sock)
        await stalled.recv()  # the hello
        (stuck,) = server.viewers
        reader = asyncio.create_task(_collect(server.url))
        while len(server.viewers) < 2:
            await asyncio.sleep(0.01)
        put_times = []
        message = episode(0, big)
        count = 0
        # until the stalled viewer has lost some (its buffers full), and then some more
        while count < 50 or (stuck.dropped < 10 and count < 2000):
            started = time.perf_counter()
            server.episodes.put({**message, "episode": count})
            put_times.append(time.perf_counter() - started)
            count += 1
            await asyncio.sleep(0.005)
        await asyncio.to_thread(server.close, "completed")
        stalled.transport.abort()
        return await asyncio.wait_for(reader, 30), put_times, stuck.dropped, count

    received, put_times, stalled_dropped, count = asyncio.run(main())
    numbers = [m["episode"] for m in received if m["type"] == "episode"]
    assert numbers[-1] == count - 1 and received[-2]["type"] == "end"
    assert server.episodes.dropped == 0  # the stalled viewer never backed up the queue
    assert max(put_times) < 0.5  # put never waited for anybody (a generous bound)
    assert stalled_dropped > 0  # it lost its oldest messages instead of holding others up


def test_a_run_streams_agent_zeros_episodes_and_records_the_chosen_ones(tmp_path):
    from hamlet.runtime.runs import list_recordings, load_recording, recording_file

    pack = tiny_pack(tmp_path, "L0_5_dual_resource")
    server = StreamServer(EpisodeQueue())
    received: list = []
    viewer = threading.Thread(
        target=lambda: received.extend(asyncio.run(_wait_and_collect(server)))
    )
    viewer.start()
    options = RunOptions(pack=pack, episodes=12, agents=2, out=tmp_path / "runs")
    result = run_training(options, stream=server)
    viewer.join(20)
    episodes = [m for m in received if m["type"] == "episode"]
    assert received[-2] == {"type": "end", "reason": "completed"}
    import sqlite3

    db = sqlite3.connect(result.run_dir / "metrics.sqlite")
    agent0 = db.execute("SELECT episode, steps FROM episodes WHERE agent = 0").fetchall()
    assert [(m["episode"], m["survival"]) for m in episodes] == agent0
    rows = list_recordings(result.run_dir)
    assert rows and rows[0]["episode"] == 0 and "stage_start" in rows[0]["reasons"]
    recorded = load_recording(recording_file(result.run_dir, rows[0]))
    VALIDATOR.validate(recorded)
    assert recorded["steps"] == episodes[0]["steps"]


async def _wait_and_collect(server: StreamServer) -> list[dict]:
    while not server.wait_started(0):
        await asyncio.sleep(0.01)
    return await _collect(server.url)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "L0_0_minimal", "--watch", "--serve"],
        ["run", "L0_0_minimal", "--port", "9000"],
        ["run", "L0_0_minimal", "--serve", "--port", "http"],
        ["watch", "--pack", "L0_0_minimal"],
        ["watch", "--speed", "0"],
    ],
)
def test_cli_usage_mistakes_exit_2(argv, capsys):
    from hamlet.runtime.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_training_runs_with_its_long_lived_objects_frozen(tmp_path):
    """A full garbage collection over torch and the model takes ~0.3 s here: a run
    freezes what it built so that such pauses do not stall the stream."""
    import gc

    frozen = []
    options = RunOptions(pack=tiny_pack(tmp_path), episodes=2, out=tmp_path / "runs")
    try:
        run_training(options, on_episodes=lambda trainer, eps: frozen.append(gc.get_freeze_count()))
    finally:
        gc.unfreeze()
    assert frozen and min(frozen) > 10_000

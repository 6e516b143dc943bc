"""Benchmark live streaming: latency to viewers, cost to the trainer, memory with a
stalled viewer.

Run: ``python tools/bench/stream.py [--pack P] [--agents N] [--seconds S] [--rounds R]
[--stalled-seconds T]``.

* **Cost**: ``hamlet run`` training (the real runner: DB, recorder, queue, server) with
  no stream, and with the stream and 3 viewers attached, alternately, ``R`` rounds of
  ``S`` seconds each from the same seed. Agent-steps/s are counted between the first and
  the last finished episode of each run (set-up and the final checkpoint excluded) and
  compared as a ratio.
* **Latency**: the viewers run in another process, set up as ``hamlet watch`` is; each
  message's ``finished_at`` (set when the episode ended in the trainer) is compared
  with its arrival time, after decoding. Median and p99 over every episode of every
  viewer.
* **Memory**: a streamed run with one viewer that connects and never reads, and a run
  without a stream, each ``T`` seconds; the trainer process's RSS is sampled as it
  goes, and the stalled viewer's dropped count and buffer length are shown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from hamlet.runtime.learning.trainer import Episode, Trainer
from hamlet.runtime.runs import RunOptions, RunResult, run_training
from hamlet.runtime.runs.process import freeze_long_lived_objects
from hamlet.runtime.telemetry import EpisodeQueue, StreamServer, websocket_source


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Meter:
    """An on_episodes hook: agent-steps/s between the first and the last finished episode,
    and RSS samples every ``every`` seconds."""

    def __init__(self, every: float = 5.0) -> None:
        self.first: tuple[float, int] | None = None
        self.last: tuple[float, int] | None = None
        self.agents = 1
        self.every = every
        self.rss: list[tuple[float, float]] = []
        self.watch = lambda: None
        self.seen = None

    def __call__(self, trainer: Trainer, episodes: list[Episode]) -> None:
        now = time.perf_counter()
        self.agents = trainer.num_agents
        if self.first is None:
            self.first = (now, trainer.env_steps)
        self.last = (now, trainer.env_steps)
        self.seen = self.watch()
        if not self.rss or now - self.rss[-1][0] >= self.every:
            self.rss.append((now, rss_mb()))

    @property
    def rate(self) -> float:
        assert self.first is not None and self.last is not None
        (t0, s0), (t1, s1) = self.first, self.last
        return (s1 - s0) * self.agents / (t1 - t0)


def train(
    args: argparse.Namespace,
    folder: Path,
    stream: StreamServer | None,
    meter: Meter,
    seconds: float,
) -> RunResult:
    options = RunOptions(
        pack=args.pack, agents=args.agents, seed=0, out=folder, episodes=10**9,
        minutes=seconds / 60,
    )  # fmt: skip
    return run_training(options, on_episodes=meter, stream=stream)


def spawn(mode: str, port: int, viewers: int = 3) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, f"--{mode}", str(port), "--viewers", str(viewers)],
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for_viewers(server: StreamServer, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(server.viewers) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def streamed(
    args: argparse.Namespace, folder: Path, mode: str, viewers: int, seconds: float
) -> tuple[Meter, dict, StreamServer, list[tuple[int, int]]]:
    """A run with a stream and ``viewers`` viewer connections in another process."""
    port = free_port()
    server = StreamServer(EpisodeQueue(), port=port)
    process: subprocess.Popen | None = None

    def on_start(url: str) -> None:
        nonlocal process
        process = spawn(mode, port, viewers)
        wait_for_viewers(server, viewers)

    server.on_start = on_start
    meter = Meter(every=seconds / 6)
    meter.watch = lambda: [(v.dropped, len(v.buffer)) for v in server.viewers]
    train(args, folder, server, meter, seconds)
    stuck = meter.seen or []
    assert process is not None
    output, _ = process.communicate(timeout=60)
    return meter, json.loads(output or "{}"), server, stuck


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the viewer process ---------------------------------------------------------------


async def watch(port: int, viewers: int) -> dict:
    """``viewers`` connections reading as ``hamlet watch`` does (its message source, and
    its process set-up: long-lived objects frozen out of garbage collection)."""
    freeze_long_lived_objects()
    latencies: list[tuple[float, int]] = []

    async def one() -> int:
        count = 0
        async for message in websocket_source(f"ws://127.0.0.1:{port}"):
            if message["type"] == "episode":
                latencies.append((time.time() - message["finished_at"], message["episode"]))
                count += 1
            elif message["type"] == "end":
                break
        return count

    counts = await asyncio.gather(*(one() for _ in range(viewers)))
    return {"latencies": latencies, "episodes": counts}


async def stall(port: int) -> dict:
    from websockets.asyncio.client import connect

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    async with connect(f"ws://127.0.0.1:{port}", max_queue=1, max_size=None, sock=sock) as ws:
        await ws.recv()  # the hello, then nothing more is ever read
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws.wait_closed(), timeout=3600)
    return {}


# --- the report ---------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pack", default="L0_0_minimal")
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=40.0, help="per run (default 40)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each kind (default 2)")
    parser.add_argument("--stalled-seconds", type=float, default=60.0, help="0: skip")
    parser.add_argument(
        "--threads", type=int, default=1, help="PyTorch threads of the trainer (default 1)"
    )
    parser.add_argument("--viewer", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stalled", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--viewers", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.viewer is not None:
        print(json.dumps(asyncio.run(watch(args.viewer, args.viewers))))
        return
    if args.stalled is not None:
        asyncio.run(stall(args.stalled))
        return

    torch.set_num_threads(args.threads)
    folder = Path(tempfile.mkdtemp(prefix="hamlet-stream-bench-"))
    print(
        f"{args.pack}, {args.agents} agents, {args.rounds} rounds of {args.seconds:g} s per "
        f"kind, 3 viewers in another process, trainer on {args.threads} PyTorch thread(s)"
    )
    plain, live, latencies, episodes = [], [], [], []
    for _ in range(args.rounds):
        meter = Meter()
        train(args, folder, None, meter, args.seconds)
        plain.append(meter.rate)
        meter, seen, _, _ = streamed(args, folder, "viewer", 3, args.seconds)
        live.append(meter.rate)
        latencies += seen["latencies"]
        episodes += seen["episodes"]
    a, b = statistics.fmean(plain), statistics.fmean(live)
    print(f"{'run':<30}{'agent-steps/s':>15}{'ratio':>8}")
    print(f"{'no stream':<30}{a:>15,.0f}{1.0:>7.3f}x")
    print(f"{'stream + 3 viewers':<30}{b:>15,.0f}{b / a:>7.3f}x")
    print(f"per round: no stream {[round(r) for r in plain]}, stream {[round(r) for r in live]}")
    ms = sorted(x * 1000 for x, _ in latencies)
    slowest = sorted(latencies, reverse=True)[:3]
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else float("nan")
    print(
        f"latency episode end -> viewer: median {statistics.median(ms):.1f} ms, "
        f"p99 {p99:.1f} ms, max {ms[-1]:.1f} ms over {len(ms)} deliveries "
        f"({min(episodes)}..{max(episodes)} episodes per viewer per run); slowest: "
        + ", ".join(f"episode {n} {x * 1000:.0f} ms" for x, n in slowest)
    )
    if args.stalled_seconds > 0:
        stalled_report(args, folder)


def stalled_report(args: argparse.Namespace, folder: Path) -> None:
    seconds = args.stalled_seconds
    meter_plain = Meter(every=seconds / 6)
    train(args, folder, None, meter_plain, seconds)
    meter, _, server, stuck = streamed(args, folder, "stalled", 1, seconds)
    print(f"memory over {seconds:g} s (RSS MB of the training process, sampled as it runs)")
    for name, m in (("no stream", meter_plain), ("stream + stalled viewer", meter)):
        samples = " ".join(f"{mb:.0f}" for _, mb in m.rss)
        print(f"  {name:<26} {samples}")
    print(
        f"  stalled viewer: {stuck[0][0] if stuck else 'n/a'} episodes dropped for it, "
        f"{stuck[0][1] if stuck else 'n/a'} buffered (bound {server.viewer_buffer}); "
        f"queue drops {server.episodes.dropped}"
    )


if __name__ == "__main__":
    main()

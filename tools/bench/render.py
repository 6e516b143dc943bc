"""Benchmark episodes as pictures: how long a 500-step episode takes to become a GIF.

Run: ``python tools/bench/render.py [--steps 500] [--pack L3_temporal_mechanics]
[--mp4] [--quick]``. An untrained brain of the pack (seed 0) plays greedy episodes in its
town (``CheckpointPlayer``, as ``hamlet watch --checkpoint`` does); their steps are joined
into one episode of ``--steps`` steps, since an untrained agent rarely lives that long.
What a frame costs does not depend on what the agent does. Then, each timed separately:

* ``draw``: every frame drawn (``FramePainter``), nothing written;
* ``gif``: ``save_animation`` to a GIF file, drawing included (what ``--gif`` costs);
* ``mp4``: the same as H.264, with ``--mp4`` (needs the video extra).

Goal: the GIF of a 500-step episode in under 10 s on the 2-core machine.
``--quick`` (a smoke test) uses 20 steps.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hamlet.runtime import HamletModel
from hamlet.runtime.viewer.model import Episode, World
from hamlet.runtime.viewer.pictures import FramePainter, save_animation
from hamlet.runtime.viewer.watch import CheckpointPlayer
from hamlet.schemas import load_pack

GOAL_SECONDS = 10.0


def long_episode(pack_name: str, steps: int) -> tuple[World, Episode]:
    """Greedy episodes of an untrained brain, joined into one of ``steps`` steps."""
    pack = load_pack(pack_name)
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    player = CheckpointPlayer(model, pack, seed=0)
    message = player.play()
    columns = message["steps"]
    while len(columns["step"]) < steps:
        more = player.play()["steps"]
        for key, column in columns.items():
            if column is not None:
                column.extend(more[key])
    for column in columns.values():
        if column is not None:
            del column[steps:]
    columns["step"] = list(range(steps))
    message["survival"] = steps
    return World.from_hello(player.hello), Episode(message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--pack", default="L3_temporal_mechanics")
    parser.add_argument("--mp4", action="store_true", help="also time the MP4")
    parser.add_argument("--quick", action="store_true", help="20 steps: a smoke test")
    args = parser.parse_args()
    steps = 20 if args.quick else args.steps
    world, episode = long_episode(args.pack, steps)
    painter = FramePainter(world)
    print(f"{args.pack}: a {steps}-step episode, frames of {painter.size[0]}x{painter.size[1]}")
    started = time.perf_counter()
    for _ in painter.frames(episode):
        pass
    draw = time.perf_counter() - started
    print(f"draw  {draw:6.2f} s  ({1000 * draw / steps:.1f} ms a frame)")
    with tempfile.TemporaryDirectory() as folder:
        rows = [("gif", Path(folder) / "episode.gif", False)]
        if args.mp4:
            rows.append(("mp4", Path(folder) / "episode.mp4", True))
        for name, path, video in rows:
            started = time.perf_counter()
            save_animation(world, episode, path, video=video)
            seconds = time.perf_counter() - started
            size = path.stat().st_size / 1e6
            print(f"{name:5} {seconds:6.2f} s  ({size:.1f} MB)")
            if name == "gif" and steps >= 500:
                met = "met" if seconds < GOAL_SECONDS else "NOT met"
                print(f"goal: a 500-step GIF in under {GOAL_SECONDS:g} s: {met}")


if __name__ == "__main__":
    main()

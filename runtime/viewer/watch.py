"""Where a viewer's episodes come from, besides a live training stream.

* :func:`checkpoint_source`: a saved model plays episodes in its world with
  :meth:`HamletModel.predict` (no trainer), one at a time, recorded as training would;
* :func:`replay_source`: the recorded episodes of a run directory.

Both yield the messages of ``schemas/stream.schema.json``, like
:func:`hamlet.runtime.telemetry.websocket_source`, so one viewer plays them all.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import torch

from hamlet.runtime.model import HamletModel
from hamlet.runtime.runs.directory import RunDirectory
from hamlet.runtime.runs.evaluate import (
    load_with_pack,
    place,
    stage_multiplier,
    trained_layout,
)
from hamlet.runtime.runs.process import freeze_long_lived_objects
from hamlet.runtime.runs.recordings import list_recordings, load_recording, recording_file
from hamlet.runtime.telemetry import EpisodeRecorder, hello_message
from hamlet.runtime.text import text_table
from hamlet.runtime.world import TownWorld
from hamlet.schemas import Pack, load_pack
from hamlet.schemas.errors import Diagnostic, HamletWarning, RunError

Message = dict[str, Any]


class CheckpointPlayer:
    """Plays episodes of one agent with a model's epsilon-greedy (default greedy) policy."""

    def __init__(
        self,
        model: HamletModel,
        pack: Pack,
        *,
        stage: int | None = None,
        epsilon: float = 0.0,
        seed: int = 0,
        model_name: str | None = None,
    ) -> None:
        self.model, self.pack = model, pack
        self.stage = stage if stage is not None else len(pack.training.curriculum.stages)
        """The curriculum stage whose difficulty it plays at (default: the last)."""
        self.multiplier = stage_multiplier(pack, self.stage)
        self.epsilon = epsilon
        self.world = TownWorld(pack, num_agents=1, device=model.device, seed=seed)
        layout = trained_layout(model, pack, Path(model_name or "the model"))
        if layout is not None:
            place(self.world, layout)
        self.generator = torch.Generator(model.device).manual_seed(seed + 1)
        self.recorder = EpisodeRecorder(self.world)
        self.played = 0
        self.hello = hello_message(
            self.world, source="checkpoint", pack=pack.name, seed=seed, agents=1, model=model_name
        )

    def play(self) -> Message:
        """One whole episode, as an episode message."""
        world, model = self.world, self.model
        obs, hidden = world.reset(), model.initial_state(1)
        with torch.no_grad():
            while True:
                mask = world.action_mask()
                acted = model.predict(
                    obs, hidden, epsilon=self.epsilon, action_mask=mask, generator=self.generator
                )
                result = world.step(acted["actions"], self.multiplier)
                ended = result.done | result.truncated
                self.recorder.record_step(
                    mask, acted["actions"], acted["q_values"], result.reward, ended,
                    self.epsilon, None, result.interactions,
                )  # fmt: skip
                if bool(ended[0]):
                    break
                obs, hidden = result.obs, acted["hidden"]
        outcome = result.outcome(0)
        message = self.recorder.finish_episode(
            episode=self.played, stage=self.stage, multiplier=self.multiplier,
            epsilon=self.epsilon, intrinsic_weight=0.0, outcome=outcome,
        )  # fmt: skip
        assert message is not None
        self.played += 1
        return message


async def checkpoint_source(
    player: CheckpointPlayer,
    episodes: int | None = None,
    *,
    wanted: Callable[[], bool] | None = None,
) -> AsyncIterator[Message]:
    """The player's hello, then ``episodes`` episodes (None: without end), each played in
    a worker thread so that the viewer stays responsive, and only when ``wanted()``
    says the viewer is ready for another (no work for episodes nobody will see)."""
    yield player.hello
    for _ in itertools.count() if episodes is None else range(episodes):
        while wanted is not None and not wanted():
            await asyncio.sleep(0.05)
        yield await asyncio.to_thread(player.play)
    yield {"type": "end", "reason": "exhausted"}


def replay_messages(run_dir: str | Path, episode: int | None = None) -> list[Message]:
    """The hello of a run's world and its recorded episodes (or just ``episode``). A
    recording that cannot be read is left out with a warning, unless it is the one asked
    for; the others still play."""
    run = RunDirectory.open(run_dir)
    rows = list_recordings(run.path)
    if episode is not None:
        rows = [r for r in rows if r["episode"] == episode]
        if not rows:
            raise RunError(
                Diagnostic(
                    "E314",
                    f"{run.path} has no recording of episode {episode}",
                    hint="list what it has with: hamlet replay RUN_DIR --list",
                    file=str(run.path),
                )
            )
    pack = load_pack(run.config).model_copy(update={"name": run.pack_name})
    world = TownWorld(pack, num_agents=1)
    messages = [hello_message(world, source="replay", pack=pack.name, run_dir=str(run.path))]
    for row in rows:
        try:
            messages.append(load_recording(recording_file(run.path, row)))
        except RunError as error:
            if episode is not None:
                raise
            warnings.warn(HamletWarning(error.errors[0]), stacklevel=2)
    return messages


async def replay_source(messages: list[Message]) -> AsyncIterator[Message]:
    """Recorded messages, then an end."""
    for message in messages:
        yield message
    yield {"type": "end", "reason": "exhausted"}


# --- the commands ------------------------------------------------------------------------


def watch_checkpoint(
    path: str | Path,
    *,
    pack: str | None,
    stage: int | None,
    epsilon: float,
    seed: int,
    episodes: int | None,
    speed: float,
    device: str = "cpu",
) -> int:
    """``hamlet watch --checkpoint MODEL``: the model plays, the viewer shows it."""
    from .app import ViewerApp

    model, world_pack = load_with_pack(path, pack, device=device)
    player = CheckpointPlayer(
        model, world_pack, stage=stage, epsilon=epsilon, seed=seed,
        model_name=str(path),
    )  # fmt: skip
    app: ViewerApp

    def wanted() -> bool:  # play ahead of the viewer by one episode at most
        return app.queued < 1

    app = ViewerApp(
        checkpoint_source(player, episodes, wanted=wanted),
        speed=speed,
        live=False,
        title=Path(path).name,  # the header's second part names the pack
    )
    freeze_long_lived_objects()
    app.run()
    return 0


def watch_stream(url: str, *, speed: float) -> int:
    """``hamlet watch [URL]``: the viewer on a stream server (``hamlet run --serve``)."""
    from hamlet.runtime.telemetry.streaming import websocket_source

    from .app import ViewerApp

    app = ViewerApp(websocket_source(url), speed=speed, live=True, title=url)
    freeze_long_lived_objects()
    app.run()
    return 0


def replay(run_dir: str | Path, *, episode: int | None, list_only: bool, speed: float) -> int:
    """``hamlet replay RUN_DIR``: list a run's recordings, or play them."""
    rows = list_recordings(run_dir)
    if list_only or not rows:
        print(format_recordings(rows, run_dir))
        return 0
    from .app import ViewerApp

    messages = replay_messages(run_dir, episode)
    title = f"{Path(run_dir).name}: " + (
        f"episode {episode}" if episode is not None else f"{len(messages) - 1} recordings"
    )
    app = ViewerApp(replay_source(messages), speed=speed, live=False, title=title)
    freeze_long_lived_objects()
    app.run()
    return 0


def format_recordings(rows: list[dict[str, Any]], run_dir: str | Path) -> str:
    """The recordings of a run as a table (or a line saying there are none)."""
    if not rows:
        return (
            f"{run_dir} has no recordings (set recording.enabled: true in the pack's "
            "training.yaml, or watch it live with hamlet run --watch)"
        )
    header = ("episode", "stage", "survival", "reward", "outcome", "why")
    table = [header] + [
        (
            str(r["episode"]),
            str(r["stage"]),
            str(r["survival"]),
            f"{r['reward']:.1f}",
            r["outcome"],
            ", ".join(r["reasons"]),
        )
        for r in rows
    ]
    return "\n".join([*text_table(table), f"play one with: hamlet replay {run_dir} --episode N"])


def run_watched(options: Any, *, port: int, speed: float, web: int | None = None) -> Any:
    """``hamlet run PACK --watch``: training in a background thread, the viewer in front;
    closing the viewer (``q``) stops training with a final checkpoint, as Ctrl-C does,
    but as a normal end: the result says ``stopped``, not ``interrupted``. With ``web``
    (a port) the viewer is a web page instead, and Ctrl-C in the terminal stops both."""
    import dataclasses
    import threading

    from hamlet.runtime.runs.runner import run_training
    from hamlet.runtime.telemetry.streaming import EpisodeQueue, StreamServer, websocket_source

    from .app import ViewerApp

    if web is not None:
        from .web import ready_to_serve

        ready_to_serve(web)  # the extra and the port, before training starts
    server = StreamServer(EpisodeQueue(), port=port)
    stop = threading.Event()
    outcome: dict[str, Any] = {}

    def train() -> None:
        try:
            outcome["result"] = run_training(options, stream=server, stop=stop)
        except BaseException as error:  # re-raised in the main thread
            outcome["error"] = error

    thread = threading.Thread(target=train, name="hamlet-trainer", daemon=True)
    thread.start()
    while not server.wait_started(0.05) and thread.is_alive():
        pass
    if server.wait_started(0) and web is not None:
        from .web import serve_viewer

        serve_viewer([server.url, "--speed", f"{speed:g}"], port=web, title="HAMLET training")
    elif server.wait_started(0):
        ViewerApp(websocket_source(server.url), speed=speed, live=True).run()
    stop.set()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if result.interrupted:  # the viewer closed (or the page's server) before the end
        how = "with Ctrl-C" if web is not None else "from the viewer"
        result = dataclasses.replace(result, interrupted=False, stopped=True, stopped_by=how)
    return result


# --- pictures to keep ----------------------------------------------------------------------


def save_pictures(
    message: Message, hello: Message, gif: str | None, mp4: str | None, fps: float
) -> None:
    """Write an episode message as a GIF and/or an MP4, saying what was written."""
    from .model import Episode, World
    from .pictures import save_animation

    world, episode = World.from_hello(hello), Episode(message)
    for path, video in ((gif, False), (mp4, True)):
        if path is None:
            continue
        started = time.perf_counter()
        frames = save_animation(world, episode, path, fps=fps, video=video)
        seconds = time.perf_counter() - started
        print(
            f"wrote {path}: episode {episode.number}, {frames} frames at {fps:g} fps "
            f"({frames / fps:.1f} s to watch, {seconds:.1f} s to draw)"
        )


def record_replay(
    run_dir: str | Path, episode: int, *, gif: str | None, mp4: str | None, fps: float
) -> int:
    """``hamlet replay RUN_DIR --episode N --gif FILE``: a recorded episode as pictures."""
    hello, message = replay_messages(run_dir, episode)[:2]
    save_pictures(message, hello, gif, mp4, fps)
    return 0


def record_checkpoint(
    path: str | Path,
    *,
    pack: str | None,
    stage: int | None,
    epsilon: float,
    seed: int,
    gif: str | None,
    mp4: str | None,
    fps: float,
    device: str = "cpu",
) -> int:
    """``hamlet watch --checkpoint MODEL --gif FILE``: a fresh episode of the model (greedy
    unless ``epsilon``), played without a viewer and written as pictures."""
    model, world_pack = load_with_pack(path, pack, device=device)
    player = CheckpointPlayer(
        model, world_pack, stage=stage, epsilon=epsilon, seed=seed, model_name=str(path)
    )
    save_pictures(player.play(), player.hello, gif, mp4, fps)
    return 0

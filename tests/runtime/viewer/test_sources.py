"""The viewer on its real sources: a saved model playing, a run's recordings, and a
live training stream over WebSocket."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

import pytest

from hamlet.runtime import HamletModel
from hamlet.runtime.cli import main
from hamlet.runtime.runs import RunOptions, read_state, run_training
from hamlet.runtime.telemetry import EpisodeQueue, StreamServer, websocket_source
from hamlet.runtime.viewer import ViewerApp
from hamlet.runtime.viewer.watch import (
    CheckpointPlayer,
    checkpoint_source,
    replay_messages,
    replay_source,
)
from hamlet.schemas import load_pack

from ..conftest import tiny_pack


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recorded")
    pack = tiny_pack(folder, "L0_5_dual_resource")
    return run_training(RunOptions(pack=pack, episodes=6, agents=1, out=folder / "runs"))


def headers_at_the_first_episode(monkeypatch, then: str | None = None) -> list[tuple[str, str]]:
    """Make every ViewerApp's ``run`` (in an 80x24 terminal) note its header's two parts
    once an episode shows, then press ``then`` (or end); returns the notes."""
    headers: list[tuple[str, str]] = []

    def run(app: ViewerApp) -> None:
        async def main():
            async with app.run_test(size=(80, 24)) as pilot:
                while app.episode is None:
                    await pilot.pause(0.01)
                headers.append((app.title, app.sub_title))
                if then is not None:
                    await pilot.press(then)

        asyncio.run(main())

    monkeypatch.setattr(ViewerApp, "run", run)
    return headers


def _play(app: ViewerApp, until, tries: int = 600) -> None:
    async def main():
        async with app.run_test(size=(110, 34)) as pilot:
            for _ in range(tries):
                if until(app):
                    return
                await pilot.pause(0.01)
            raise AssertionError("the viewer never got there")

    asyncio.run(main())


def test_a_checkpoint_plays_greedy_episodes_one_at_a_time(recorded_run):
    model = HamletModel.load(sorted((recorded_run.run_dir / "checkpoints").glob("model_*"))[-1])
    pack = load_pack(recorded_run.run_dir / "config")
    player = CheckpointPlayer(model, pack, seed=3)
    app = ViewerApp(
        checkpoint_source(player, 2, wanted=lambda: app.queued < 1), speed=1000, paused=False
    )
    _play(app, lambda a: a.finished)
    assert player.played == 2
    episode = app.episode
    assert episode is not None and episode["epsilon"] == 0.0
    # greedy: every step chose a best allowed action
    for q, mask, action in zip(
        episode["steps"]["q_values"], episode["steps"]["action_mask"], episode["steps"]["action"],
        strict=True,
    ):  # fmt: skip
        assert q[action] == max(v for v, ok in zip(q, mask, strict=True) if ok)


def test_replay_plays_every_recording_in_order(recorded_run):
    messages = replay_messages(recorded_run.run_dir)
    assert messages[0]["type"] == "hello" and messages[0]["source"] == "replay"
    recorded = [m["episode"] for m in messages[1:]]
    assert len(recorded) >= 2
    app = ViewerApp(replay_source(messages), live=False, paused=True)
    seen = []

    async def main():
        async with app.run_test(size=(110, 34)) as pilot:
            while not app.finished:
                await pilot.pause(0.01)
            for _ in recorded:
                seen.append(app.episode["episode"])
                await pilot.press("n")

    asyncio.run(main())
    assert seen == recorded and app.skipped == 0


def test_replay_cli_lists_and_explains(recorded_run, capsys):
    assert main(["replay", str(recorded_run.run_dir), "--list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == [
        "episode",
        "stage",
        "survival",
        "reward",
        "outcome",
        "why",
    ]
    assert "stage_start" in out
    assert main(["replay", str(recorded_run.run_dir), "--episode", "999"]) == 1
    assert "no recording of episode 999" in capsys.readouterr().err
    assert main(["replay", str(recorded_run.run_dir.parent)]) == 1
    assert "not a run directory" in capsys.readouterr().err


def test_the_viewer_follows_a_live_training_run(tmp_path):
    server = StreamServer(EpisodeQueue())
    options = RunOptions(
        pack=tiny_pack(tmp_path), episodes=8, agents=2, out=tmp_path / "runs",
        overrides=["evaluation.every_episodes=2", "evaluation.episodes=2"],
    )  # fmt: skip
    stop = threading.Event()
    trainer = threading.Thread(target=lambda: run_training(options, stream=server, stop=stop))
    trainer.start()
    assert server.wait_started(30)
    app = ViewerApp(websocket_source(server.url), speed=1000)
    _play(app, lambda a: a.finished)
    trainer.join(60)
    assert app.world is not None and app.episode is not None
    assert app.episode["episode"] <= 7 and app.connection == "closed"
    # the learning curve's evaluations reach the chart, the last one at the run's end
    assert app.evaluations and app.evaluations[-1][0] == 8
    assert [e for e, _ in app.evaluations] == sorted(e for e, _ in app.evaluations)


def test_q_in_the_viewer_of_run_watch_ends_the_run_cleanly_with_status_0(
    tmp_path, monkeypatch, capsys
):
    """``hamlet run --watch``, then ``q`` once an episode shows: the run saves a final
    checkpoint, says it stopped (not interrupted) and how to go on, and exits 0. The
    header names the tool, then the source and pack: "training" once, not twice."""
    headers = headers_at_the_first_episode(monkeypatch, then="q")
    argv = ["run", str(tiny_pack(tmp_path)), "--watch", "--episodes", "100000"]
    assert main([*argv, "--out", str(tmp_path / "runs")]) == 0
    assert headers == [("HAMLET", "training · tiny_L0_0_minimal")]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("stopped from the viewer at episode ")
    assert "hamlet run --resume " in lines[0] and lines[1].startswith("run directory: ")
    run_dir = Path(lines[1].removeprefix("run directory: "))
    assert read_state(run_dir / "metrics.sqlite")["status"] == "interrupted"  # resumable
    assert list((run_dir / "checkpoints").glob("checkpoint_ep*.pt"))


def test_run_watch_web_checks_its_port_before_training(tmp_path, capsys):
    """A taken port is refused (E315) before the run starts: no run folder is left."""
    import socket

    pytest.importorskip("textual_serve")
    pack = str(tiny_pack(tmp_path))
    with pytest.raises(SystemExit) as usage:
        main(["run", pack, "--web"])
    assert usage.value.code == 2 and "--web goes with --watch" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        argv = ["run", pack, "--watch", "--web", "--port", port, "--out", str(tmp_path / "runs")]
        assert main(argv) == 1
    assert f"error[E315]: port {port} on 127.0.0.1 is in use" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_watch_web_without_the_extra_names_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert main(["watch", "--web", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "error[E303]: the viewer in a browser needs textual_serve.server" in err
    assert "pip install 'hamlet[web]'" in err


@pytest.mark.parametrize(
    ("url", "hint"),
    [("MODEL", "hamlet watch --checkpoint "), ("RUN", "hamlet watch --checkpoint "),
     ("http://127.0.0.1:8765", "ws://127.0.0.1:8765"), ("ws://", "ws://127.0.0.1:8765"),
     ("ws://127.0.0.1:99999", "ws://127.0.0.1:8765"), ("127.0.0.1:8765", "ws://127.0.0.1:8765")],
    ids=["a-model", "a-run", "http", "no-host", "bad-port", "no-scheme"],
)  # fmt: skip
@pytest.mark.parametrize("web", [False, True], ids=["terminal", "browser"])
def test_watch_refuses_a_url_it_could_never_connect_to(
    recorded_run, capsys, monkeypatch, url, hint, web
):
    # The viewer used to open and retry such a URL for ever ("disconnected: InvalidURI"):
    # most often a saved model given where --checkpoint belongs.
    import hamlet.runtime.viewer.web as web_viewer

    def opened(*args, **kwargs):
        raise AssertionError("the viewer opened")

    monkeypatch.setattr(ViewerApp, "run", opened)
    monkeypatch.setattr(web_viewer, "serve_viewer", opened)
    model = sorted((recorded_run.run_dir / "checkpoints").glob("model_ep*.pt"))[-1]
    url = {"MODEL": str(model), "RUN": str(recorded_run.run_dir)}.get(url, url)
    assert main(["watch", url, *(["--web"] if web else [])]) == 2
    err = capsys.readouterr().err
    assert "error[E300]: URL " in err and hint in err


def test_watch_checkpoint_names_the_model_and_the_pack_once_in_80_columns(
    recorded_run, monkeypatch
):
    # The title once repeated the pack the header's second part names ("model_ep6.pt in
    # L0_5... — checkpoint · L0_5..."), and 80 columns cut it.
    headers = headers_at_the_first_episode(monkeypatch)
    model = sorted((recorded_run.run_dir / "checkpoints").glob("model_ep*.pt"))[-1]
    assert main(["watch", "--checkpoint", str(model), "--episodes", "1"]) == 0
    assert headers == [(model.name, "checkpoint · tiny_L0_5_dual_resource")]

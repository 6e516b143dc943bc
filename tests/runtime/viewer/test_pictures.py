"""Episodes as pictures: the frames, the GIF and MP4 files, and the commands that write them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PIL import Image

from hamlet.runtime.cli import main
from hamlet.runtime.runs import RunOptions, run_training
from hamlet.runtime.viewer.model import Episode, World
from hamlet.runtime.viewer.pictures import (
    CELL,
    COLOURS,
    INDEX,
    FramePainter,
    save_animation,
)
from hamlet.schemas.errors import HamletError

from ..conftest import tiny_pack

PINNED = Path(__file__).with_name("pinned") / "frame_episode0_step3.png"
"""Step 3 of the seeded synthetic episode 0 (conftest.build_messages), as drawn. Kept out
of ``__snapshots__``: syrupy takes any file there for an unused snapshot and fails the run."""


@pytest.fixture
def world(messages):
    return World.from_hello(messages[0])


@pytest.fixture
def episode(messages):
    return Episode(messages[1])


def test_a_gif_has_a_frame_per_step_all_one_size(world, episode, tmp_path):
    out = tmp_path / "episode.gif"
    assert save_animation(world, episode, out, fps=20) == episode.length
    with Image.open(out) as gif:
        assert gif.n_frames == episode.length
        assert gif.size == FramePainter(world).size
        assert gif.info["duration"] == 50 and gif.info["loop"] == 0


def test_the_frame_shows_the_town_the_agent_and_the_bars(world, episode):
    """Pixels where the geometry says things are: the agent's cell, each affordance's
    outline in its terminal colour, a meter bar filled up to its value and no further."""
    painter = FramePainter(world)
    frame = painter.frame(episode, 3)
    step = episode.step(3)
    x, y = painter._cell_corner(step.position)
    assert frame.getpixel((x + 4, y + 4)) == INDEX["agent"]  # the agent's yellow cell
    for name, cell in episode.affordances.items():
        if cell != step.position:
            cx, cy = painter._cell_corner(cell)
            assert frame.getpixel((cx + 2, cy + CELL // 2)) == painter._colour_of(name)
    energy = step.meters[0]
    y = painter.meters_y + 8
    inside, outside = painter.bar_x + int(energy * 150) - 2, painter.bar_x + int(energy * 150) + 2
    assert frame.getpixel((inside, y)) == INDEX["good" if energy >= 0.5 else "mid"]
    assert frame.getpixel((outside, y)) == INDEX["track"]
    agent_x, agent_y = painter._cell_corner(step.position)
    assert frame.convert("RGB").getpixel((agent_x + 4, agent_y + 4)) == COLOURS["agent"]


def test_one_frame_is_pinned(world, episode):
    """The whole picture of one step, against the committed one: a change to how frames
    look shows here (regenerate the PNG deliberately, after looking at it). Text is drawn
    by the font library Pillow bundles, so a few glyph pixels may move between versions."""
    frame = FramePainter(world).frame(episode, 3).convert("RGB")
    if os.environ.get("HAMLET_UPDATE_FRAME"):  # regenerate: HAMLET_UPDATE_FRAME=1 pytest ...
        frame.save(PINNED)
    with Image.open(PINNED) as pinned:
        assert pinned.size == frame.size
        old, new = pinned.convert("RGB").tobytes(), frame.tobytes()
    same = sum(old[i : i + 3] == new[i : i + 3] for i in range(0, len(new), 3))
    assert same / (frame.size[0] * frame.size[1]) > 0.995


def test_frames_are_drawn_the_same_every_time(world, episode):
    painter = FramePainter(world)
    first = painter.frame(episode, 2).tobytes()
    painter.frame(episode, 5)
    assert FramePainter(world).frame(episode, 2).tobytes() == first


def test_an_mp4_is_written_where_ffmpeg_installs(world, episode, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "episode.mp4"
    assert save_animation(world, episode, out, video=True) == episode.length
    assert out.read_bytes()[4:8] == b"ftyp"  # an MP4 container


def test_a_folder_or_a_device_is_not_overwritten(world, episode, tmp_path):
    for path in (tmp_path, Path("/dev/null")):
        with pytest.raises(HamletError) as error:
            save_animation(world, episode, path)
        assert error.value.errors[0].code == "E313"
    (tmp_path / "file.txt").write_text("")  # a file where a folder should be
    with pytest.raises(HamletError) as error:
        save_animation(world, episode, tmp_path / "file.txt" / "x.gif")
    assert error.value.errors[0].code == "E313"


def test_without_pillow_the_extra_is_named(world, episode, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if it were not installed
    with pytest.raises(HamletError) as error:
        save_animation(world, episode, tmp_path / "x.gif")
    assert error.value.errors[0].code == "E303"
    assert "hamlet[pictures]" in error.value.errors[0].hint


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    pack = tiny_pack(folder, "L0_5_dual_resource")
    return run_training(RunOptions(pack=pack, episodes=4, agents=1, out=folder / "runs"))


def test_replay_writes_a_recorded_episode(recorded_run, tmp_path, capsys):
    run = str(recorded_run.run_dir)
    assert main(["replay", run, "--list"]) == 0
    episode = int(capsys.readouterr().out.splitlines()[1].split()[0])
    out = tmp_path / "replay.gif"
    assert main(["replay", run, "--episode", str(episode), "--gif", str(out), "--fps", "5"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out}: episode {episode}, ") and "at 5 fps" in said
    with Image.open(out) as gif:
        assert gif.n_frames == int(said.split(", ")[1].split()[0]) and gif.info["duration"] == 200


def test_watch_checkpoint_records_a_fresh_greedy_episode(recorded_run, tmp_path, capsys):
    out = tmp_path / "fresh.gif"
    assert main(["watch", "--checkpoint", str(recorded_run.run_dir), "--gif", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: episode 0, ")
    assert out.stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "RUN", "--gif", "x.gif"], "give --episode N"),
        (["watch", "--gif", "x.gif"], "--gif goes with --checkpoint"),
        (["watch", "--checkpoint", "RUN", "--fps", "5"], "--fps goes with --gif or --mp4"),
        (["watch", "--checkpoint", "RUN", "--gif", "x.gif", "--episodes", "2"], "one episode"),
        (["watch", "--checkpoint", "RUN", "--gif", "x.gif", "--fps", "0"], "not a frame rate"),
    ],
)
def test_picture_flags_that_cannot_work_are_usage_errors(recorded_run, capsys, argv, message):
    argv = [str(recorded_run.run_dir) if a == "RUN" else a for a in argv]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err

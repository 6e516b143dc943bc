"""Screenshots of the viewer, pinned as SVG (pytest-textual-snapshot).

They start paused and move with ``s`` so the same step is on screen every time. A change
here is a change to what students see: update with ``pytest --snapshot-update`` only after
looking at the new pictures (the failure report shows both).
"""

from __future__ import annotations

import pytest

from hamlet.runtime.viewer import ViewerApp, iter_messages

SIZE = (110, 34)
SIZES = [(80, 24), (120, 40), (160, 50)]
"""A default terminal (the Episode panel a line, the chart its caption), a roomy one and
a large one: the layout adapts between them (layout.py)."""


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_paused_episode(snap_compare, make_messages, settled, size):
    """A training stream, four steps into the first episode, paused, with stats and the
    learning curve's evaluations on the survival chart."""
    app = ViewerApp(iter_messages(make_messages(episodes=40, stats=True)), paused=True)
    assert snap_compare(app, press=["s", "s", "s"], terminal_size=size, run_before=settled)


def test_temporal_episode(snap_compare, temporal_messages, settled):
    """A world with a clock: the episode panel shows the hour and interaction progress."""
    app = ViewerApp(iter_messages(temporal_messages), paused=True, live=False)
    assert snap_compare(app, press=["s"] * 5, terminal_size=SIZE, run_before=settled)


def test_last_step_and_end_of_stream(snap_compare, make_messages, settled):
    """The final step reveals the outcome; the status line says the stream is over."""
    messages = make_messages(episodes=1, end=True)
    app = ViewerApp(iter_messages(messages), paused=True)
    last = messages[1]["survival"] - 1
    assert snap_compare(app, press=["s"] * last, terminal_size=SIZE, run_before=settled)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_real_world_episode(snap_compare, settled, size):
    """An episode of the real L3 town (clock, 14 affordances) played by a freshly
    initialised brain with seeded weights, recorded as training records it: the whole
    path from world to screen."""
    from hamlet.runtime import HamletModel
    from hamlet.runtime.viewer.watch import CheckpointPlayer
    from hamlet.schemas import load_pack

    pack = load_pack("L3_temporal_mechanics")
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    player = CheckpointPlayer(model, pack, seed=0)
    messages = [player.hello, player.play()]
    app = ViewerApp(iter_messages(messages), paused=True, live=False)
    assert snap_compare(app, press=["s"] * 7, terminal_size=size, run_before=settled)

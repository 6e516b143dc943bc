"""What each panel says about a step, read from the Rich text the widgets display."""

from __future__ import annotations

import dataclasses

import pytest

from hamlet.runtime.viewer.model import Episode, World
from hamlet.runtime.viewer.panels import (
    StatusLine,
    info_line,
    info_text,
    stats_text,
    status_text,
    trend_text,
    viewer_state,
)
from hamlet.runtime.viewer.render import (
    AGENT,
    BAR_WIDTH,
    bar,
    grid_text,
    legend_text,
    meter_style,
    meters_text,
    q_scale,
    q_text,
)


@pytest.fixture
def world(messages):
    return World.from_hello(messages[0])


@pytest.fixture
def episode(messages):
    return Episode(messages[1])


def styles_of(text, needle):
    """The styles of the spans covering the first occurrence of ``needle``."""
    start = text.plain.index(needle)
    return {str(s.style) for s in text.spans if s.start <= start < s.end}


def test_grid_draws_affordances_dots_and_the_agent_on_top(world, episode):
    step = episode.step(0)
    placed = episode.affordances
    name, cell = next(iter(placed.items()))
    lines = grid_text(world, episode, dataclasses.replace(step, position=cell)).plain.split("\n")
    assert len(lines) == 8 and all(len(line) == 15 for line in lines)
    assert lines[cell[1]][2 * cell[0]] == AGENT, f"the agent hides {name}"
    lines = grid_text(world, episode, step).plain.split("\n")
    x, y = step.position
    assert lines[y][2 * x] == AGENT
    for other, (ox, oy) in placed.items():
        assert lines[oy][2 * ox] == world.symbols[other]
    assert sum(line.count("·") for line in lines) == 64 - 1 - len(placed)


def test_legend_lists_the_placed_affordances_in_their_colours(world, episode):
    text = legend_text(world, episode)
    assert text.plain.split("\n") == [
        "@  agent",
        "B  Bed",
        "J  Job",
        "S  Shower",
        "H  HomeMeal",
        "P  Hospital",
    ]
    colours = {next(iter(styles_of(text, f"{s}  "))) for s in "BJSHP"}
    assert len(colours) == 5


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0, ""), (1, "█" * BAR_WIDTH), (0.5, "█" * 8), (1 / 64, "▎")]
)
def test_bar_fills_in_eighths(fraction, expected):
    assert bar(fraction) == expected.ljust(BAR_WIDTH)


def test_low_meters_are_red(world, episode):
    assert meter_style(0.19) == "bold red" and meter_style(0.2) != "bold red"
    step = dataclasses.replace(episode.step(0), meters=[0.9, 0.1, 0.5, 0.3, 1, 1, 1, 1])
    text = meters_text(world, step)
    rows = text.plain.split("\n")
    assert rows[1].startswith("hygiene") and rows[1].endswith(" 0.10")
    assert "bold red" in styles_of(text, "0.10")
    assert "bold red" not in styles_of(text, "0.90")


def test_q_scale_ignores_masked_actions():
    assert q_scale([1.0, -50.0, 3.0], [True, False, True]) == (1.0, 3.0)
    assert q_scale([1.0, 2.0], [False, False]) == (1.0, 2.0)


def test_q_values_mark_the_choice_and_the_masked(world, episode):
    step = dataclasses.replace(
        episode.step(0),
        q_values=[1.0, 2.0, -9.0, 0.5, 0.0, 1.5],
        action_mask=[True, True, False, True, True, True],
        action=1,
    )
    text = q_text(world, step)
    rows = text.plain.split("\n")
    assert rows[1].startswith("▶ DOWN") and rows[1].endswith("+2.000")
    assert "bold" in " ".join(styles_of(text, "▶ DOWN"))
    assert rows[2].startswith("✗ LEFT") and rows[2].endswith("masked")
    assert styles_of(text, "✗ LEFT") == {"dim"}
    assert [r[0] for r in rows].count("▶") == 1
    # bars span the valid Q-values, 0.0 (INTERACT) to 2.0 (DOWN); LEFT's -9 is left out
    assert rows[3].startswith("  RIGHT") and rows[3].count("█") == BAR_WIDTH // 4
    assert rows[4].startswith("  INTERACT") and "█" not in rows[4]


def test_an_exploring_choice_is_marked(world, episode):
    step = dataclasses.replace(
        episode.step(0), q_values=[1.0, 2.0, 0, 0, 0, 0], action_mask=[True] * 6, action=0
    )
    assert q_text(world, step).plain.split("\n")[0].endswith(" explore")


def test_info_shows_the_clock_only_when_recorded(world, episode):
    step = episode.step(1)
    assert "Time" not in info_text(world, episode, step).plain
    timed = dataclasses.replace(step, time_of_day=7, interaction_progress=0.25)
    assert "Time      07:00  interaction 25%" in info_text(world, episode, timed).plain


def test_info_reveals_the_outcome_on_the_last_step_only(world, episode):
    assert "Outcome" not in info_text(world, episode, episode.step(0)).plain
    last = info_text(world, episode, episode.step(episode.last_index)).plain
    assert f"Outcome   {episode.message['outcome']}" in last
    assert f"Step      {episode.length} / {episode.length}" in last


def test_stats_line(make_messages):
    stats = make_messages(stats=True)[-1]
    text = stats_text(stats).plain
    assert "42 episodes" in text and "1,234 agent-steps/s" in text
    assert "loss 0.0123" in text and "recent survival 87.5" in text
    assert stats_text(None).plain == "no training figures from this source"
    waiting = stats_text(None, training=True).plain
    assert waiting == "training figures: the first come within seconds"
    ended = stats_text(None, training=True, ended=True).plain
    assert ended == "no training figures came before the stream ended"


def test_status_line_adds_stream_drops_and_skips():
    status = StatusLine("connected", "", False, 0.5, 3, 3, 2, False, showing=True)
    text = status_text(status).plain
    assert "❚❚ paused" in text and "0.5 steps/s" in text and "3 queued" in text
    assert "dropped 5 (stream 3, skipped 2)" in text


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"connection": "connecting"}, "◌ connecting…"),
        ({"connection": "connecting", "retrying": True}, "◌ reconnecting…"),
        ({"connection": "lost", "detail": "refused"}, "✖ disconnected, retrying: refused"),
        ({"connection": "lost", "detail": "gone", "finished": True}, "✖ disconnected: gone"),
        ({}, "◌ waiting for the first episode…"),
        ({"showing": True, "playing": True}, "▶ playing"),
        ({"showing": True}, "❚❚ paused"),
        ({"showing": True, "playing": True, "finished": True}, "▶ playing · stream ended"),
        (
            {"showing": True, "playing": True, "finished": True, "at_end": True,
             "end_reason": "completed"},
            "■ stream ended (completed): no more episodes",
        ),
        ({"finished": True, "connection": "closed"}, "■ stream ended before any episode"),
    ],
)  # fmt: skip
def test_the_status_line_tells_the_one_state_the_viewer_is_in(changes, label):
    base = StatusLine("connected", "", False, 10.0, 0, 0, 0, False)
    text = status_text(dataclasses.replace(base, **changes)).plain
    assert text.startswith(label + "  │  10 steps/s")
    others = ("▶ playing", "❚❚ paused", "connecting", "disconnected", "waiting", "ended")
    assert not [other for other in others if other in text and other not in label]


def test_a_notice_says_why_a_key_did_nothing():
    status = StatusLine("connected", "", True, 10.0, 0, 0, 0, False, showing=True, notice="n: x")
    assert status_text(status).plain.endswith("│  n: x")


BIG_STATS = {
    "episodes": 12_345,
    "agent_steps_per_second": 123_456.0,
    "loss": 0.0045,
    "recent_survival": 487.3,
    "epsilon": 0.05,
    "stage": 5,
}
BIG_FIGURES = ["12,345", "123,456", "0.0045", "487.3"]
NARROW = [78, 76]
"""The widths an 80-column terminal leaves: the status line and the collapsed chart's
figures (padding 1 each side), the drawn chart's figures (its border too)."""


@pytest.mark.parametrize("width", NARROW)
def test_training_figures_keep_every_digit_in_80_columns(width):
    text = stats_text(BIG_STATS, width=width)
    assert text.cell_len <= width, text.plain
    assert text.plain.startswith("training  ")
    assert [figure for figure in BIG_FIGURES if figure not in text.plain] == []


def test_training_figures_shorten_only_when_they_must():
    full = stats_text(BIG_STATS).plain
    assert "12,345 episodes" in full and "recent survival 487.3" in full
    assert "ε 0.050 · stage 5" in full
    assert stats_text(BIG_STATS, width=len(full)).plain == full
    # ε goes before the stage, and both before a label shortens
    no_epsilon = stats_text(BIG_STATS, width=len(full) - 1).plain
    assert "ε" not in no_epsilon and "stage 5" in no_epsilon and "episodes" in no_epsilon


def test_no_rate_before_the_first_measured_window():
    text = stats_text({**BIG_STATS, "agent_steps_per_second": 0.0}).plain
    assert "… agent-steps/s" in text and "0 agent-steps/s" not in text
    assert "12,345 episodes" in text


@pytest.mark.parametrize("width", NARROW)
def test_the_charts_caption_keeps_every_figure_in_80_columns(width):
    # a long pack's episodes (10,000 steps) and a long run's evaluation: 82 cells in full
    text = trend_text([10_000, 9_999], 10_000, (1_234_567, 9_876.5), width=width)
    assert text.cell_len <= width, text.plain
    assert [f for f in ("9999", "10000/10000", "9876.5", "1234567") if f not in text.plain] == []
    full = trend_text([12, 500], 500, (40, 312.4)).plain  # room: the full labels
    assert full == "█ survival  latest 500  best 500 of 500   ◆ greedy eval 312.4 (ep 40)"
    assert trend_text([12, 500], 500, (40, 312.4), width=width).plain == full


@pytest.mark.parametrize("width", NARROW)
def test_the_episode_line_keeps_every_figure_in_80_columns(messages, world, width):
    # 82 cells in full: a long run's episode on its last step, standing on HomeMeal
    long = Episode({**messages[1], "episode": 123_456, "stage": 5, "outcome": "retired"})
    cell = long.affordances["HomeMeal"]
    step = dataclasses.replace(
        long.step(long.last_index), position=cell, cumulative_reward=-1234.56
    )
    text = info_line(world, long, step, width=width)
    assert text.cell_len <= width, text.plain
    figures = ["123456", f"{long.length}/{long.length}", "-1234.56", "retired", "on HomeMeal"]
    assert [f for f in figures if f not in text.plain] == []
    assert info_line(world, long, step).plain.startswith("Episode 123456 · step ")  # room: all


BUSY = StatusLine(
    "closed", "", True, 1000.0, 1_234, 50, 6, True, end_reason="interrupted", showing=True
)
"""A status line with every field at its widest: a long state and large figures."""


@pytest.mark.parametrize("width", NARROW)
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"playing": False},
        {"playing": False, "end_reason": "completed", "speed": 10.0},
        {"playing": False, "speed": 0.5},
        {"at_end": True, "queued": 0},
        {"finished": False, "end_reason": None},
    ],
    ids=["playing", "paused", "paused-completed", "slow", "at-end", "live"],
)
def test_the_status_line_keeps_every_digit_in_80_columns(width, changes):
    status = dataclasses.replace(BUSY, **changes)
    text = status_text(status, width=width)
    assert text.cell_len <= width, text.plain
    label = viewer_state(status)[0].split(" ·")[0].split(":")[0]
    assert text.plain.startswith(label)
    figures = [f"{status.speed:g} steps/s", f"{status.queued:,} queued", "dropped 56"]
    assert [figure for figure in figures if figure not in text.plain] == []


def test_the_status_line_shortens_only_when_it_must():
    full = status_text(BUSY).plain
    assert full == (
        "▶ playing · stream ended (interrupted)  │  1000 steps/s  │  1,234 queued"
        "  │  dropped 56 (stream 50, skipped 6)"
    )
    assert status_text(BUSY, width=len(full)).plain == full
    # the split of the drops goes first, then the separators narrow, then the state
    assert status_text(BUSY, width=len(full) - 1).plain.endswith("  │  dropped 56")
    narrow = "▶ playing · stream ended (interrupted) │ 1000 steps/s │ 1,234 queued │ dropped 56"
    assert status_text(BUSY, width=len(narrow)).plain == narrow
    assert status_text(BUSY, width=len(narrow) - 1).plain == (
        "▶ playing · ended (interrupted) │ 1000 steps/s │ 1,234 queued │ dropped 56"
    )

"""The viewer fits any terminal from 80x24 up, and its survival chart keeps a fixed scale."""

from __future__ import annotations

import re

import pytest

from hamlet.runtime.viewer import ViewerApp, iter_messages
from hamlet.runtime.viewer.chart import EVALUATION, survival_chart
from hamlet.runtime.viewer.layout import CHART_MIN_HEIGHT, INFO_MIN_WIDTH, plan_layout
from hamlet.runtime.viewer.model import Episode, World
from hamlet.runtime.viewer.render import legend_text
from hamlet.schemas import load_pack

SIZES = [(80, 24), (100, 30), (120, 40), (160, 50), (220, 60)]


@pytest.fixture
def world(messages):
    return World.from_hello(messages[0])


@pytest.fixture(scope="module")
def town():
    """The real L3 town: 14 affordances and a clock, the tallest legend of the packs."""
    from hamlet.runtime.telemetry import hello_message
    from hamlet.runtime.world import TownWorld

    pack = load_pack("L3_temporal_mechanics")
    town = TownWorld(pack, num_agents=1, seed=0)
    return World.from_hello(hello_message(town, source="training", pack=pack.name))


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_row_is_accounted_for_and_the_bars_always_fit(world, town, width, height):
    for w in (world, town):
        layout = plan_layout(w, width, height)
        chrome = 2 + (not layout.info_panel) + layout.header
        assert layout.body_height + chrome + layout.trend_height == height
        assert layout.town_width + layout.middle_width <= width
        bars = len(w.meters) + len(w.actions) + 4
        assert layout.body_height == bars  # the town's legend flows so it is never taller


def test_at_80x24_the_episode_panel_is_a_line_and_the_chart_its_caption(world, town):
    for w in (world, town):
        layout = plan_layout(w, 80, 24)
        assert not layout.info_panel and not layout.chart
        assert layout.trend_height == 2  # the caption and the training figures
        assert layout.header  # the row left over
    assert plan_layout(town, 80, 24).legend_columns == 2


def test_wide_and_tall_terminals_get_everything(world):
    layout = plan_layout(world, 120, 40)
    assert layout.info_panel and layout.header and layout.chart
    assert 120 - layout.town_width - layout.middle_width >= INFO_MIN_WIDTH
    just_enough = plan_layout(world, 120, 18 + 2 + CHART_MIN_HEIGHT)  # body, status, footer
    assert just_enough.chart and not just_enough.header  # the chart before the header


def test_a_legend_in_columns_keeps_every_entry_in_hello_order(town):
    layout = plan_layout(town, 80, 24)
    every = {name: [index, index] for index, name in enumerate(town.symbols)}
    steps = {"step": [], "reward": [], "intrinsic_reward": []}
    episode = Episode({"episode": 0, "survival": 1, "affordances": every, "steps": steps})
    text = legend_text(town, episode, layout.legend_columns).plain
    lines = text.split("\n")
    assert len(lines) == -(-(1 + len(town.symbols)) // 2)
    assert max(map(len, lines)) <= layout.town_width - 4
    rows = [re.findall(r"\S  (\S+)", line) for line in lines]
    down_the_columns = [row[0] for row in rows] + [row[1] for row in rows if len(row) > 1]
    assert down_the_columns == ["agent", *town.symbols]


def rows_of(text):
    return text.plain.split("\n")


def test_the_scale_is_fixed_from_zero_to_the_cap():
    """149 against 150 of 500 is two nearly equal bars, not an empty and a full one."""
    lines = rows_of(survival_chart([(0, 149), (1, 150), (2, 500)], [], 500, 40, 12))
    plot = [line[5:] for line in lines[:-2]]
    column = ["".join(row[c] for row in plot) for c in range(3)]
    assert column[0] == column[1] == " " * 7 + "█" * 3  # 10 rows of 50: both ~3 rows
    assert column[2] == "█" * 10
    assert lines[0].startswith("500 ┤") and lines[-2].startswith("  0 └")
    assert lines[5].startswith("250 ┤")
    assert lines[-1].strip() == "episodes 0–2"  # too few columns to label each end


def test_evaluations_sit_over_the_episode_they_were_taken_at():
    training = [(n, 100) for n in range(0, 200, 10)]
    evaluations = [(-5, 400.0), (45, 500.0), (95, 250.0), (900, 0.0)]
    lines = rows_of(survival_chart(training, evaluations, 500, 40, 12))
    marks = [(r, line.index(EVALUATION) - 5) for r, line in enumerate(lines) if EVALUATION in line]
    # 500 tops the first row, 250 ends where a bar of 250 would (the row labelled 250);
    # the evaluations before the window and after the newest episode are left out
    assert marks == [(0, 5), (5, 10)]
    assert lines[-1].split() == ["episode", "0", "190"]


def test_too_small_a_space_draws_nothing():
    assert survival_chart([(0, 10)], [], 500, 40, 3).plain == ""
    assert survival_chart([(0, 10)], [], 500, 10, 12).plain == ""


@pytest.mark.parametrize(("width", "height"), [(80, 24), (120, 40)])
def test_the_meters_q_values_and_status_are_on_screen(drive, make_messages, width, height):
    messages = make_messages(stats=True)
    app = ViewerApp(iter_messages(messages), paused=True)

    async def scenario(pilot):
        await pilot.press("s")
        for widget_id in ("meters", "qvalues", "status", "trend-caption", "stats"):
            region = app.query_one(f"#{widget_id}").region
            assert region.bottom <= height and region.right <= width and region.height
        meters = app.query_one("#meters").content_region
        assert meters.height == len(messages[0]["world"]["meters"])
        info = "#info" if width >= 120 else "#info-line"
        assert app.query_one(info).display and app.query_one(info).region.width > 40

    drive(app, scenario, size=(width, height))


def test_a_resized_terminal_is_laid_out_for_its_new_size(drive, make_messages):
    # The app's own Resize handler ran before Textual had taken the new size, so the
    # panels followed the terminal one resize late (an 80x24 tmux window, widened and
    # narrowed again, kept the wide layout and lost its right side).
    app = ViewerApp(iter_messages(make_messages(stats=True)), paused=True)

    async def scenario(pilot):
        for width, height in [(120, 40), (80, 24), (160, 50), (100, 30)]:
            await pilot.resize_terminal(width, height)
            await pilot.pause()
            assert app._layout == plan_layout(app._world, width, height)
            for widget_id in ("meters", "qvalues", "status"):
                region = app.query_one(f"#{widget_id}").region
                assert region.right <= width and region.bottom <= height, widget_id

    drive(app, scenario, size=(80, 24))

"""The viewer app driven by keys through Textual's pilot, on synthetic streams."""

from __future__ import annotations

import pytest

from hamlet.runtime.viewer import ViewerApp, iter_messages


def shown(app, widget_id):
    """The plain text a widget displays (the viewer's panels hold Rich ``Text``)."""
    return app.query_one(f"#{widget_id}").content.plain


async def wait_for(pilot, condition, tries=200):
    """Let the app run until ``condition()`` holds; fails instead of hanging."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause()
    raise AssertionError("the viewer never got there")


def viewer(messages, **options):
    options.setdefault("paused", True)
    return ViewerApp(iter_messages(messages), **options)


def test_the_first_episode_shows_and_the_rest_wait(drive, messages):
    app = viewer(messages)

    async def scenario(pilot):
        assert app.episode is messages[1] and app.step_index == 0
        assert (app.queued, app.skipped, app.playing) == (2, 0, False)
        assert app.connection == "closed" and app.finished
        assert "Episode   0" in shown(app, "info")
        assert "2 queued" in shown(app, "status")

    drive(app, scenario)


def test_space_toggles_playing(drive, messages):
    app = viewer(messages, speed=0.5)

    async def scenario(pilot):
        await pilot.press("space")
        assert app.playing and "▶ playing" in shown(app, "status")
        await pilot.press("space")
        assert not app.playing and "❚❚ paused" in shown(app, "status")

    drive(app, scenario)


@pytest.mark.parametrize(
    ("start", "keys", "speeds"),
    [
        (250, ["plus", "equals_sign", "plus"], [500, 1000, 1000]),
        (2, ["minus", "minus", "minus"], [1, 0.5, 0.5]),
    ],
    ids=["faster", "slower"],
)
def test_plus_and_minus_double_and_halve_the_speed_within_limits(
    drive, messages, start, keys, speeds
):
    app = viewer(messages, speed=start)

    async def scenario(pilot):
        for key, speed in zip(keys, speeds, strict=True):
            await pilot.press(key)
            assert app.speed == speed
        assert f"{speeds[-1]:g} steps/s" in shown(app, "status")

    drive(app, scenario)


def test_s_pauses_and_shows_exactly_the_next_step(drive, messages):
    app = viewer(messages, speed=0.5, paused=False)

    async def scenario(pilot):
        await pilot.press("s")  # the timer may have ticked before this: a loaded machine
        assert not app.playing
        before = app.step_index
        await pilot.press("s")
        assert app.step_index == before + 1
        await pilot.press("s")
        assert app.step_index == before + 2 and app.episode is messages[1]
        assert f"Step      {before + 3} / " in shown(app, "info")

    drive(app, scenario)


def test_s_on_the_last_step_starts_the_next_episode(drive, messages):
    app = viewer(messages)
    last = messages[1]["survival"] - 1

    async def scenario(pilot):
        await pilot.press(*["s"] * last)
        assert (app.episode, app.step_index) == (messages[1], last)
        assert "Outcome" in shown(app, "info")
        await pilot.press("s")
        assert (app.episode, app.step_index, app.queued) == (messages[2], 0, 1)

    drive(app, scenario)


def test_n_jumps_to_the_next_episode(drive, messages):
    app = viewer(messages, live=False)

    async def scenario(pilot):
        await pilot.press("s", "n")
        assert (app.episode, app.step_index) == (messages[2], 0)
        await pilot.press("n", "n")
        assert app.episode is messages[3] and app.queued == 0

    drive(app, scenario)


def test_n_in_live_mode_jumps_to_the_newest(drive, messages):
    app = viewer(messages)

    async def scenario(pilot):
        await pilot.press("n")
        assert app.episode is messages[3]
        assert (app.queued, app.skipped) == (0, 1)

    drive(app, scenario)


def test_playing_moves_through_every_episode_then_waits(drive, messages):
    app = viewer(messages, speed=1000, paused=False, live=False)
    last = messages[-1]

    async def scenario(pilot):
        await wait_for(pilot, lambda: app.episode is last)
        await wait_for(pilot, lambda: app.step_index == last["survival"] - 1)
        await pilot.pause()
        assert app.episode is last and app.step_index == last["survival"] - 1
        assert app.playing and "no more episodes" in shown(app, "status")

    drive(app, scenario)


def test_live_mode_keeps_three_waiting_and_counts_the_skipped(drive, make_messages):
    messages = make_messages(episodes=6)
    app = viewer(messages)

    async def scenario(pilot):
        assert (app.queued, app.skipped) == (3, 2)
        assert "dropped 2 (stream 0, skipped 2)" in shown(app, "status")
        await pilot.press("s")
        assert app.episode is messages[1]

    drive(app, scenario)


def test_replays_skip_nothing(drive, make_messages):
    messages = make_messages(episodes=6)
    app = viewer(messages, live=False)

    async def scenario(pilot):
        assert (app.queued, app.skipped) == (5, 0)
        assert "dropped 0" in shown(app, "status")

    drive(app, scenario)


def test_stats_drops_add_to_the_viewers_own(drive, make_messages):
    messages = make_messages(episodes=5, stats=True)
    app = viewer(messages)

    async def scenario(pilot):
        assert "dropped 4 (stream 3, skipped 1)" in shown(app, "status")
        assert "42 episodes" in shown(app, "stats")

    drive(app, scenario)


def test_q_quits(drive, messages):
    app = viewer(messages)

    async def scenario(pilot):
        await pilot.press("q")
        assert app.return_code == 0

    drive(app, scenario)


def test_q_values_show_the_choice_and_the_masked_actions(drive, messages):
    app = viewer(messages)
    steps = messages[1]["steps"]

    async def scenario(pilot):
        for index in range(3):
            rows = shown(app, "qvalues").split("\n")
            action, mask = steps["action"][index], steps["action_mask"][index]
            assert [row[0] for row in rows].count("▶") == 1
            assert rows[action].startswith(
                f"▶ {('UP', 'DOWN', 'LEFT', 'RIGHT', 'INTERACT', 'WAIT')[action]}"
            )
            for row, ok in zip(rows, mask, strict=True):
                assert row.startswith("✗") != ok and row.endswith("masked") != ok
            markup = app.query_one("#qvalues").content.markup
            assert "[bold bright_white]▶" in markup and "[dim]✗" in markup
            await pilot.press("s")

    drive(app, scenario)


def test_time_of_day_shows_for_temporal_worlds_only(drive, messages, temporal_messages):
    plain, timed = viewer(messages), viewer(temporal_messages)
    hour = temporal_messages[1]["steps"]["time_of_day"][0]

    async def no_clock(pilot):
        assert "Time" not in shown(plain, "info")

    async def clock(pilot):
        assert f"Time      {hour:02d}:00  interaction" in shown(timed, "info")

    drive(plain, no_clock)
    drive(timed, clock)


def test_a_lost_connection_shows_in_the_status_line(drive, messages):
    note = {"type": "connection", "state": "lost", "detail": "server went away"}
    app = viewer([{"type": "connection", "state": "connecting", "detail": ""}, *messages, note])

    async def scenario(pilot):
        assert app.connection == "lost"
        assert shown(app, "status").startswith("✖ disconnected: server went away")

    drive(app, scenario)


def test_a_failing_source_shows_instead_of_crashing(drive, messages):
    async def broken():
        yield messages[0]
        yield messages[1]
        raise ConnectionResetError("peer closed")

    app = ViewerApp(broken(), paused=True)

    async def scenario(pilot):
        assert app.episode is messages[1] and app.is_running
        assert shown(app, "status").startswith("✖ disconnected: ConnectionResetError: peer closed")

    drive(app, scenario)


def test_the_end_of_the_source_shows(drive, messages):
    app = viewer([*messages[:2], {"type": "end", "reason": "interrupted"}, {"type": "surprise"}])

    async def scenario(pilot):
        assert app.finished and app.queued == 0
        # steps of the last episode are still to play: paused, and the stream is over
        assert shown(app, "status").startswith("❚❚ paused · stream ended (interrupted)")
        assert app.sub_title == "training ended · L1_full_observability"  # not "training"

    drive(app, scenario)


def test_a_replay_that_ends_keeps_its_name(drive, messages):
    hello = {**messages[0], "source": "replay"}
    app = viewer([hello, *messages[1:], {"type": "end", "reason": "completed"}])

    async def scenario(pilot):
        assert app.finished and app.sub_title == "replay · L1_full_observability"

    drive(app, scenario)


def test_episodes_without_a_hello_still_play(drive, messages):
    app = viewer(messages[1:])

    async def scenario(pilot):
        assert app.world is not None and len(app.world.actions) == 6
        await pilot.press("s")
        assert app.step_index == 1 and "@" in shown(app, "grid")

    drive(app, scenario)


def test_keys_that_cannot_act_say_why_until_the_next_key(drive, messages):
    app = viewer(messages, live=False)
    last = messages[-1]

    async def scenario(pilot):
        for _ in range(len(messages) - 2):
            await pilot.press("n")
        assert app.episode is last and app.queued == 0
        await pilot.press("n")
        assert "n: no episode is waiting; the stream has ended" in shown(app, "status")
        while app.step_index < last["survival"] - 1:
            await pilot.press("s")
        assert "n: no episode" not in shown(app, "status")  # the next key cleared it
        await pilot.press("s")
        assert "s: this is the episode's last step; the stream has ended" in shown(app, "status")
        assert "■ stream ended" in shown(app, "status")
        await pilot.press("space")
        assert not app.playing and "nothing left to play" in shown(app, "status")

    drive(app, scenario)


def test_a_training_source_promises_its_figures_a_replay_does_not(drive, messages):
    app = viewer(messages)  # the synthetic stream says hello as a training run

    async def scenario(pilot):
        await pilot.pause()
        # this finite stream ended before any figures came (stats_text covers the wait)
        assert shown(app, "stats") == "no training figures came before the stream ended"

    drive(app, scenario)
    replay = [{**messages[0], "source": "replay"}, *messages[1:]]
    app = viewer(replay)

    async def scenario_replay(pilot):
        await pilot.pause()
        assert shown(app, "stats") == "no training figures from this source"

    drive(app, scenario_replay)


def on_screen(app, widget_id):
    """The line a one-line widget draws inside its padding, cut to the width it has, as
    the terminal shows it (not the text it was given, which may be longer)."""
    return app.query_one(f"#{widget_id}").render_line(0).text


def test_large_figures_keep_every_digit_in_80_by_24(drive, make_messages):
    """A long training run in a default terminal: the training figures and the status
    line shorten their labels rather than lose a number off the right edge."""
    messages = make_messages(episodes=1_235, end=True)
    stats = make_messages(episodes=0, stats=True)[-1]
    stats.update(episodes=12_345, agent_steps_per_second=123_456.0, loss=0.0045)
    stats.update(recent_survival=487.3, dropped={"queue": 50, "viewer": 6})
    messages.insert(-1, stats)
    app = viewer(messages, live=False)

    async def scenario(pilot):
        assert app.queued == 1_234
        figures = on_screen(app, "stats")
        for figure in ("12,345 ep", "123,456 agent-steps/s", "loss 0.0045", "487.3"):
            assert figure in figures, figures
        status = on_screen(app, "status")
        assert status.startswith("❚❚ paused · stream ended (completed)"), status
        for figure in ("10 steps/s", "1,234 queued", "dropped 56"):
            assert figure in status, status
        assert not [line for line in (figures, status) if line.endswith("…")]

    drive(app, scenario, size=(80, 24))


def test_the_figures_fit_again_when_the_terminal_narrows(drive, make_messages):
    messages = make_messages(episodes=5, stats=True, end=True)
    messages[-2].update(episodes=12_345, agent_steps_per_second=123_456.0)
    app = viewer(messages)

    async def scenario(pilot):
        assert "12,345 episodes" in on_screen(app, "stats")  # room for the long labels
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        figures = on_screen(app, "stats")
        assert "12,345 ep ·" in figures and "recent survival" not in figures
        assert "123,456 agent-steps/s" in figures and "87.5" in figures

    drive(app, scenario, size=(160, 50))

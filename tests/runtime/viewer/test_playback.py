"""Playback rules and the world/episode wrappers, without a terminal."""

from __future__ import annotations

import pytest

from hamlet.runtime.viewer.model import Episode, World
from hamlet.runtime.viewer.playback import MAX_SPEED, MIN_SPEED, Playback, clamp_speed


@pytest.fixture
def episodes(make_messages):
    return [Episode(m) for m in make_messages(episodes=6)[1:]]


def test_world_reads_the_hello(messages):
    world = World.from_hello(messages[0])
    assert world.grid_size == 8
    assert world.meters[0] == "energy" and len(world.meters) == 8
    assert world.actions == ("UP", "DOWN", "LEFT", "RIGHT", "INTERACT", "WAIT")
    assert world.symbols["Hospital"] == "P"
    assert (world.temporal, world.stages, world.source) == (False, 5, "training")
    assert world.pack == "L1_full_observability"


def test_world_can_be_guessed_from_an_episode(messages):
    world = World.infer(messages[1])
    assert world.grid_size <= 8
    assert len(world.meters) == 8 and len(world.actions) == 6
    assert world.symbols["HomeMeal"] == "H"


def test_episode_sums_rewards_up_to_each_step(messages):
    episode = Episode(messages[1])
    rewards = messages[1]["steps"]["reward"]
    step = episode.step(2)
    assert step.cumulative_reward == pytest.approx(sum(rewards[:3]))
    assert episode.step(episode.last_index).done
    assert step.time_of_day is None and step.interaction_progress is None


def test_first_episode_goes_on_screen_then_others_queue(episodes):
    playback = Playback(live=True)
    assert playback.add(episodes[0])
    assert not playback.add(episodes[1])
    assert playback.episode is episodes[0] and list(playback.queue) == [episodes[1]]


def test_advance_walks_the_episode_then_moves_on(episodes):
    playback = Playback(live=False)
    playback.add(episodes[0])
    for _ in range(episodes[0].last_index):
        assert playback.advance()
    assert playback.at_last_step
    assert not playback.advance(), "nothing queued: it waits at the last step"
    assert playback.step_index == episodes[0].last_index
    playback.add(episodes[1])
    assert playback.advance()
    assert (playback.episode, playback.step_index) == (episodes[1], 0)


def test_live_mode_keeps_three_waiting_and_counts_the_rest(episodes):
    playback = Playback(live=True)
    for episode in episodes:
        playback.add(episode)
    assert playback.episode is episodes[0]
    assert list(playback.queue) == episodes[3:]
    assert playback.skipped == 2


def test_replay_mode_keeps_everything(episodes):
    playback = Playback(live=False)
    for episode in episodes:
        playback.add(episode)
    assert list(playback.queue) == episodes[1:]
    assert playback.skipped == 0


@pytest.mark.parametrize(
    ("live", "expected", "skipped", "left"),
    [(True, 5, 4, 0), (False, 1, 0, 4)],
    ids=["live", "replay"],
)
def test_next_episode_jumps_to_newest_live_or_next_replay(episodes, live, expected, skipped, left):
    """Live, the older waiting episodes are passed over (and counted); a replay skips none."""
    playback = Playback(live=live, limit=10)
    for episode in episodes:
        playback.add(episode)
    playback.advance()
    assert playback.next_episode()
    assert (playback.episode, playback.step_index) == (episodes[expected], 0)
    assert playback.skipped == skipped
    assert len(playback.queue) == left


def test_next_episode_without_a_queue_stays(episodes):
    playback = Playback()
    playback.add(episodes[0])
    playback.advance()
    assert not playback.next_episode()
    assert (playback.episode, playback.step_index) == (episodes[0], 1)


def test_empty_episodes_are_left_out(messages):
    empty = {**messages[1], "survival": 0}
    empty["steps"] = {k: (None if v is None else []) for k, v in messages[1]["steps"].items()}
    playback = Playback()
    assert not playback.add(Episode(empty))
    assert playback.episode is None and not playback.advance()


@pytest.mark.parametrize(
    ("speed", "clamped"), [(0.1, MIN_SPEED), (0.5, 0.5), (10, 10.0), (5000, MAX_SPEED)]
)
def test_speed_is_clamped(speed, clamped):
    assert clamp_speed(speed) == clamped

"""What the recorder keeps of a watched agent, and which episodes reach the disk."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import jsonschema
import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.trainer import Trainer
from hamlet.runtime.telemetry import (
    EpisodeRecorder,
    RecordingSelector,
    affordance_symbols,
    hello_message,
)
from hamlet.schemas import load_pack

from ..conftest import STREAM_SCHEMA, tiny_pack


def _trainer(tmp_path, source: str, agents: int = 3) -> Trainer:
    pack = load_pack(tiny_pack(tmp_path, source))
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    return Trainer(pack, model, num_agents=agents, seed=0)


def _episodes(trainer: Trainer, count: int) -> tuple[list[dict], list]:
    messages: list[dict] = []
    trainer.recorder = EpisodeRecorder(trainer.world, live_stream_callback=messages.append)
    ended = []
    while len(messages) < count:
        ended += [e for e in trainer.step() if e.agent == 0]
    return messages, ended


@pytest.mark.parametrize("source", ["L0_0_minimal", "L3_temporal_mechanics"])
def test_recorded_episodes_follow_the_schema_and_the_trainer(tmp_path, source):
    trainer = _trainer(tmp_path, source)
    messages, ended = _episodes(trainer, 2)
    validator = jsonschema.Draft202012Validator(STREAM_SCHEMA)
    validator.validate(hello_message(trainer.world, source="training", pack=source))
    for message, episode in zip(messages, ended, strict=True):
        validator.validate(message)
        steps = message["steps"]
        assert message["episode"] == episode.number and message["survival"] == episode.steps
        assert message["outcome"] == episode.outcome
        assert all(len(column) == episode.steps for column in steps.values() if column)
        assert steps["done"] == [False] * (episode.steps - 1) + [True]
        # correction 8: the mask recorded is the one the action was chosen under, so the
        # action is always allowed by it (the original recorded the next state's mask)
        for action, mask in zip(steps["action"], steps["action_mask"], strict=True):
            assert mask[action]
        assert message["reward"] == pytest.approx(episode.reward, abs=1e-3)
        size = trainer.world.grid_size
        assert all(0 <= x < size and 0 <= y < size for x, y in steps["position"])
    temporal = source == "L3_temporal_mechanics"
    hours = messages[0]["steps"]["time_of_day"]
    assert (hours is not None) == temporal
    if temporal:  # the clock ticks once a step from midnight
        assert hours[:3] == [1, 2, 3]
        assert all(0 <= p <= 1 for p in messages[0]["steps"]["interaction_progress"])


def test_recording_does_not_change_training(tmp_path):
    """The recorder only reads: the same seed trains the same with or without it."""

    def train(record: bool) -> tuple[list, torch.Tensor]:
        trainer = _trainer(tmp_path / str(record), "L2_partial_observability", agents=2)
        if record:
            trainer.recorder = EpisodeRecorder(trainer.world)
        ended = []
        for _ in range(120):
            ended += [(e.number, e.steps, e.reward) for e in trainer.step()]
        return ended, torch.cat([p.flatten() for p in trainer.model.module.parameters()])

    plain, recorded = train(False), train(True)
    assert plain[0] == recorded[0] and len(plain[0]) > 0
    assert torch.equal(plain[1], recorded[1])


def test_a_failing_stream_callback_never_reaches_training(tmp_path, caplog):
    trainer = _trainer(tmp_path, "L0_0_minimal", agents=1)

    def broken(message):
        raise RuntimeError("viewer on fire")

    trainer.recorder = EpisodeRecorder(trainer.world, live_stream_callback=broken)
    with caplog.at_level(logging.ERROR):
        for _ in range(100):
            trainer.step()
    assert trainer.episodes_done >= 2 and trainer.recorder.callback_errors == trainer.episodes_done
    assert "viewer on fire" in caplog.text


def test_an_episode_joined_midway_is_not_emitted(tmp_path):
    trainer = _trainer(tmp_path, "L0_0_minimal", agents=1)
    for _ in range(5):
        trainer.step()
    messages, _ = _episodes(trainer, 1)
    assert messages[0]["episode"] == 1  # episode 0 was joined at its 6th step


def test_affordance_symbols_are_distinct_single_characters():
    names = ["Bed", "LuxuryBed", "Bar", "Bath", "Job", "Labor", "Gym", "B", "BB"]
    symbols = affordance_symbols(names)
    assert symbols["Bed"] == "B" and symbols["LuxuryBed"] == "L"
    assert len(set(symbols.values())) == len(names)
    assert all(len(s) == 1 for s in symbols.values())


def _config(**overrides):
    values = dict(
        periodic_every=0, transition_before=0, transition_after=0, extremes_window=0,
        stage_first=0,
    )  # fmt: skip
    return SimpleNamespace(**{**values, **overrides})


def _message(episode: int, reward: float = 0.0) -> dict:
    return {"episode": episode, "reward": reward}


def _chosen(selector, episodes, transitions_after=()):
    chosen = {}
    for number, reward in episodes:
        if number in transitions_after:
            for message, reasons in selector.transition():
                chosen.setdefault(message["episode"], set()).update(reasons)
        for message, reasons in selector.consider(_message(number, reward)):
            chosen.setdefault(message["episode"], set()).update(reasons)
    return chosen


def test_periodic_records_the_first_watched_episode_of_each_block():
    selector = RecordingSelector(_config(periodic_every=10))
    # with many agents the watched agent's episode numbers skip around
    chosen = _chosen(selector, [(n, 0) for n in (0, 3, 9, 12, 15, 24, 31, 33)])
    assert chosen == {0: {"periodic"}, 12: {"periodic"}, 24: {"periodic"}, 31: {"periodic"}}


def test_transitions_keep_the_episodes_around_them_and_restart_stage_counts():
    selector = RecordingSelector(_config(transition_before=2, transition_after=1, stage_first=1))
    chosen = _chosen(selector, [(n, 0) for n in range(8)], transitions_after=(5,))
    assert chosen == {
        0: {"stage_start"},
        3: {"transition"},
        4: {"transition"},
        5: {"transition", "stage_start"},
    }


def test_best_and_worst_of_each_window():
    selector = RecordingSelector(_config(extremes_window=4))
    rewards = [5, 9, 1, 4, 7, 7, 2, 3]
    chosen = _chosen(selector, list(enumerate(rewards)))
    assert chosen == {1: {"best"}, 2: {"worst"}, 4: {"best"}, 6: {"worst"}}


def test_stream_schema_matches_the_recorder_columns():
    steps = STREAM_SCHEMA["$defs"]["episode"]["properties"]["steps"]
    assert set(steps["required"]) == set(steps["properties"])
    assert json.dumps(STREAM_SCHEMA)  # loads and serialises


def test_the_writer_merges_reasons_and_a_resume_forgets_later_recordings(tmp_path):
    from hamlet.runtime.runs import MetricsDB, list_recordings, load_recording, recording_file
    from hamlet.runtime.telemetry import RecordingWriter

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "brain.yaml").write_text("{}")  # what makes it a run directory
    db = MetricsDB(tmp_path / "metrics.sqlite")
    writer = RecordingWriter(tmp_path, db.connection)
    base = {"type": "episode", "survival": 3, "reward": 1.0, "stage": 1, "outcome": "died"}
    base["finished_at"] = 0.0
    writer.write({**base, "episode": 1}, ["periodic"])
    writer.write({**base, "episode": 1}, ["best"])  # the same episode chosen again
    writer.write({**base, "episode": 5}, ["worst"])
    rows = list_recordings(tmp_path)
    assert [(r["episode"], r["reasons"]) for r in rows] == [
        (1, ["best", "periodic"]),
        (5, ["worst"]),
    ]
    assert load_recording(recording_file(tmp_path, rows[0]))["reasons"] == ["best", "periodic"]
    db.forget_after(3)  # a run resumed from episode 3 records episode 5 afresh
    assert [r["episode"] for r in list_recordings(tmp_path)] == [1]

"""The synthetic messages the viewer tests use keep to the stream contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / "stream.schema.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("temporal", [False, True], ids=["plain", "temporal"])
def test_every_synthetic_message_follows_the_schema(validator, make_messages, temporal):
    messages = make_messages(episodes=6, temporal=temporal, stats=True, end=True)
    assert [m["type"] for m in messages] == ["hello"] + ["episode"] * 6 + ["stats", "end"]
    for message in messages:
        errors = [e.message for e in validator.iter_errors(message)]
        assert errors == [], (message["type"], errors)


def test_the_schema_rejects_a_broken_episode(validator, messages):
    """The check above can fail: a missing column is caught."""
    episode = messages[1]
    del episode["steps"]["q_values"]
    assert not validator.is_valid(episode)


def test_connection_notes_are_local_not_stream_messages(validator):
    note = {"type": "connection", "state": "lost", "detail": "server went away"}
    assert not validator.is_valid(note)


def test_messages_are_deterministic(make_messages):
    assert make_messages(temporal=True) == make_messages(temporal=True)
    assert make_messages(seed=1) != make_messages(seed=0)


@pytest.mark.parametrize("temporal", [False, True], ids=["plain", "temporal"])
def test_episodes_have_what_the_viewer_draws(make_messages, temporal):
    episodes = make_messages(temporal=temporal)[1:]
    for episode in episodes:
        steps = episode["steps"]
        assert 5 <= episode["survival"] == len(steps["step"]) <= 12
        assert steps["done"] == [False] * (episode["survival"] - 1) + [True]
        assert any(not ok for mask in steps["action_mask"] for ok in mask)
        assert (steps["time_of_day"] is not None) is temporal
        assert (steps["interaction_progress"] is not None) is temporal
        cells = [tuple(cell) for cell in episode["affordances"].values()]
        assert len(set(cells)) == len(cells) == 5

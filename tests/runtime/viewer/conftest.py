"""Synthetic stream messages for the viewer tests, and helpers to drive the app.

The messages follow ``schemas/stream.schema.json`` (test_messages.py checks they do) and are
built by a seeded ``random.Random``, so every run and every snapshot sees the same town.
"""

from __future__ import annotations

import asyncio
import random

import pytest

METERS = ["energy", "hygiene", "satiation", "money", "mood", "social", "health", "fitness"]
ACTIONS = ["UP", "DOWN", "LEFT", "RIGHT", "INTERACT", "WAIT"]
AFFORDANCES = [("Bed", "B"), ("Job", "J"), ("Shower", "S"), ("HomeMeal", "H"), ("Hospital", "P")]
MOVES = [(0, -1), (0, 1), (-1, 0), (1, 0), (0, 0), (0, 0)]
GRID = 8
OUTCOMES = ["died", "retired", "cut_off"]


def hello_message(*, temporal=False, source="training"):
    return {
        "type": "hello",
        "protocol": 1,
        "source": source,
        "run": {
            "pack": "L1_full_observability",
            "run_dir": "runs/demo",
            "seed": 0,
            "agents": 1,
            "model": None,
        },
        "world": {
            "grid_size": GRID,
            "meters": METERS,
            "actions": ACTIONS,
            "affordances": [{"name": n, "symbol": s} for n, s in AFFORDANCES],
            "temporal": temporal,
            "max_steps": 500,
            "stages": 5,
        },
    }


def action_mask(position, placed):
    """Moves off the grid are masked; INTERACT only where an affordance stands."""
    x, y = position
    inside = [y > 0, y < GRID - 1, x > 0, x < GRID - 1]
    return [*inside, position in placed, True]


def episode_message(rng, number, length, *, temporal=False):
    cells = rng.sample([(x, y) for y in range(GRID) for x in range(GRID)], len(AFFORDANCES) + 1)
    placed = {cell: name for (name, _), cell in zip(AFFORDANCES, cells, strict=False)}
    position = cells[-1]
    meters = [round(rng.uniform(0.5, 1.0), 3) for _ in METERS]
    meters[METERS.index("satiation")] = 0.3  # goes red (< 0.2) within a few steps
    hour = rng.randrange(24)
    cols = {key: [] for key in ("step", "position", "meters", "action", "reward")}
    cols.update({k: [] for k in ("intrinsic_reward", "done", "q_values", "epsilon", "action_mask")})
    cols.update(time_of_day=[] if temporal else None, interaction_progress=[] if temporal else None)
    for t in range(length):
        mask = action_mask(position, placed)
        q_values = [round(rng.uniform(-2.0, 3.0), 3) for _ in ACTIONS]
        valid = [a for a in range(len(ACTIONS)) if mask[a]]
        action = max(valid, key=q_values.__getitem__) if rng.random() > 0.2 else rng.choice(valid)
        dx, dy = MOVES[action]
        position = (position[0] + dx, position[1] + dy)
        meters = [round(max(0.0, m - rng.uniform(0.01, 0.06)), 3) for m in meters]
        cols["step"].append(t)
        cols["position"].append(list(position))
        cols["meters"].append(meters)
        cols["action"].append(action)
        cols["reward"].append(round(rng.uniform(-0.1, 0.5), 3))
        cols["intrinsic_reward"].append(round(rng.uniform(0.0, 0.05), 3))
        cols["done"].append(t == length - 1)
        cols["q_values"].append(q_values)
        cols["epsilon"].append(0.25)
        cols["action_mask"].append(mask)
        if temporal:
            cols["time_of_day"].append((hour + t) % 24)
            cols["interaction_progress"].append((t % 4) / 4)
    return {
        "type": "episode",
        "episode": number,
        "agent": 0,
        "stage": 2,
        "multiplier": 1.5,
        "epsilon": 0.25,
        "intrinsic_weight": 0.1,
        "outcome": OUTCOMES[number % len(OUTCOMES)],
        "survival": length,
        "reward": round(sum(cols["reward"]), 3),
        "intrinsic_reward": round(sum(cols["intrinsic_reward"]), 3),
        "finished_at": 1_700_000_000.0 + number,
        "affordances": {name: list(cell) for cell, name in placed.items()},
        "visits": {name: rng.randrange(3) for name in placed.values()},
        "steps": cols,
    }


def stats_message(*, episodes=42, queue=1, viewer=2):
    return {
        "type": "stats",
        "episodes": episodes,
        "env_steps": 4200,
        "agent_steps": 4200,
        "agent_steps_per_second": 1234.5,
        "epsilon": 0.25,
        "stage": 2,
        "loss": 0.0123,
        "recent_survival": 87.5,
        "evaluations": [{"episode": e, "survival": 6.0 + e / 4} for e in range(0, episodes, 10)],
        "dropped": {"queue": queue, "viewer": viewer},
        "time": 1_700_000_100.0,
    }


def build_messages(*, episodes=3, temporal=False, seed=0, stats=False, end=False):
    """A hello, then ``episodes`` episodes of 5..12 steps, optionally stats and an end."""
    rng = random.Random(seed)
    messages = [hello_message(temporal=temporal)]
    for number in range(episodes):
        messages.append(episode_message(rng, number, rng.randint(5, 12), temporal=temporal))
    if stats:
        messages.append(stats_message())
    if end:
        messages.append({"type": "end", "reason": "completed"})
    return messages


@pytest.fixture
def make_messages():
    return build_messages


@pytest.fixture
def messages():
    return build_messages()


@pytest.fixture
def temporal_messages():
    return build_messages(temporal=True)


async def settle(pilot):
    """Let the source worker read every message (the widgets update as it does)."""
    await pilot.app.workers.wait_for_complete()


@pytest.fixture
def drive():
    """Run ``scenario(pilot)`` against ``app`` once its finite source has been read.

    The repo has no async test plugin, so each test runs its own event loop.
    """

    def run(app, scenario, size=(110, 34)):
        async def main():
            async with app.run_test(size=size) as pilot:
                await settle(pilot)
                await scenario(pilot)

        asyncio.run(main())

    return run


@pytest.fixture
def settled():
    """``run_before`` for snapshots: start from a fully read source."""
    return settle

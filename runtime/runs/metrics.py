"""The run's database, ``metrics.sqlite``: one row per episode and per curriculum change.

SQLite in WAL mode, so that a viewer or a notebook can read while training writes.
Tables:

* ``episodes``: every completed episode of every agent;
* ``curriculum_transitions``: every change of stage, with the figures that caused it;
* ``affordance_transitions``: per episode, how often one successful interaction was
  followed by another (``Bed -> Job: 3``);
* ``recordings``: the episodes recorded for ``hamlet replay``, written by
  :mod:`hamlet.runtime.telemetry.recordings`;
* ``run_state``: key/value facts about the run (status, seed, pack, last checkpoint).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hamlet.runtime.learning.trainer import Episode

SCHEMA = """
CREATE TABLE IF NOT EXISTS episodes (
    episode INTEGER PRIMARY KEY,
    agent INTEGER NOT NULL,
    timestamp REAL NOT NULL,
    steps INTEGER NOT NULL,
    reward REAL NOT NULL,
    outcome TEXT NOT NULL,
    stage INTEGER NOT NULL,
    multiplier REAL NOT NULL,
    epsilon REAL NOT NULL,
    intrinsic_weight REAL NOT NULL,
    entropy REAL NOT NULL,
    env_steps INTEGER NOT NULL,
    loss REAL
);
CREATE INDEX IF NOT EXISTS episodes_stage ON episodes (stage);
CREATE TABLE IF NOT EXISTS curriculum_transitions (
    episode INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    from_stage INTEGER NOT NULL,
    to_stage INTEGER NOT NULL,
    reason TEXT NOT NULL,
    survival REAL NOT NULL,
    entropy REAL NOT NULL,
    episodes_at_stage INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS affordance_transitions (
    episode INTEGER NOT NULL,
    from_affordance TEXT NOT NULL,
    to_affordance TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (episode, from_affordance, to_affordance)
);
CREATE TABLE IF NOT EXISTS recordings (
    episode INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    reasons TEXT NOT NULL,
    survival INTEGER NOT NULL,
    reward REAL NOT NULL,
    stage INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    timestamp REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class MetricsDB:
    """Writes a run's metrics; every call commits, so readers always see whole episodes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.connection = sqlite3.connect(self.path)
        self.connection.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL never corrupts the database; a power cut may lose the last rows.
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(SCHEMA)

    def add_episodes(self, episodes: Iterable[Episode], env_steps: int, loss: float | None) -> None:
        now = time.time()
        with self.connection:
            for e in episodes:
                self.connection.execute(
                    "INSERT OR REPLACE INTO episodes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        e.number, e.agent, now, e.steps, e.reward, e.outcome, e.stage,
                        e.multiplier, e.epsilon, e.intrinsic_weight, e.entropy, env_steps, loss,
                    ),
                )  # fmt: skip
                self.connection.executemany(
                    "INSERT OR REPLACE INTO affordance_transitions VALUES (?,?,?,?)",
                    [(e.number, a, b, n) for (a, b), n in sorted(e.affordance_transitions.items())],
                )
                t = e.transition
                if t is not None:
                    self.connection.execute(
                        "INSERT OR REPLACE INTO curriculum_transitions VALUES (?,?,?,?,?,?,?,?)",
                        (
                            t.episode, now, t.from_stage, t.to_stage, t.reason, t.survival,
                            t.entropy, t.episodes_at_stage,
                        ),
                    )  # fmt: skip

    def set_state(self, **values: Any) -> None:
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO run_state VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in values.items()],
            )

    def state(self) -> dict[str, Any]:
        rows = self.connection.execute("SELECT key, value FROM run_state").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def forget_after(self, episodes_done: int) -> None:
        """Drop rows of episodes after a checkpoint (a resumed run writes them again)."""
        with self.connection:
            tables = ("episodes", "curriculum_transitions", "affordance_transitions", "recordings")
            for table in tables:
                self.connection.execute(f"DELETE FROM {table} WHERE episode >= ?", (episodes_done,))

    def close(self) -> None:
        self.connection.close()


def read_episodes(path: str | Path) -> list[dict[str, Any]]:
    """Every episode row, in order (for analysis and tests)."""
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute("SELECT * FROM episodes ORDER BY episode").fetchall()
        return [dict(row) for row in rows]
    finally:
        connection.close()

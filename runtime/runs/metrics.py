"""The run's database, ``metrics.sqlite``: one row per episode and per curriculum change.

SQLite in WAL mode, so that a viewer or a notebook can read while training writes.
Tables:

* ``episodes``: every completed episode of every agent;
* ``curriculum_transitions``: every change of stage, with the figures that caused it;
* ``affordance_transitions``: per episode, how often one successful interaction was
  followed by another (``Bed -> Job: 3``);
* ``recordings``: the episodes recorded for ``hamlet replay``, written by
  :mod:`hamlet.runtime.telemetry.recordings`;
* ``evaluations``: the greedy policy at full difficulty every ``evaluation.every_episodes``
  episodes, on its own seeded world (the learning curve that means something);
* ``throughput``: every few seconds, agent-steps/s, gradient steps/s and each phase's
  share of the wall time since the row before (:mod:`hamlet.runtime.learning.phases`);
* ``run_state``: key/value facts about the run (status, seed, pack, overrides, last
  checkpoint, training time).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hamlet.runtime.files import refused_writes
from hamlet.runtime.learning.phases import PHASES, Throughput
from hamlet.runtime.learning.trainer import Episode
from hamlet.schemas.errors import Diagnostic, RunError

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
CREATE TABLE IF NOT EXISTS evaluations (
    episode INTEGER PRIMARY KEY,
    agent_steps INTEGER NOT NULL,
    env_steps INTEGER NOT NULL,
    wall_time REAL NOT NULL,
    timestamp REAL NOT NULL,
    stage INTEGER NOT NULL,
    multiplier REAL NOT NULL,
    episodes INTEGER NOT NULL,
    mean_survival REAL NOT NULL,
    median_survival REAL NOT NULL,
    mean_return REAL NOT NULL,
    median_return REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS throughput (
    wall_time REAL PRIMARY KEY,
    timestamp REAL NOT NULL,
    episode INTEGER NOT NULL,
    agent_steps INTEGER NOT NULL,
    seconds REAL NOT NULL,
    agent_steps_per_s REAL NOT NULL,
    gradient_steps_per_s REAL NOT NULL,
    {phases}
);
""".format(phases=",\n    ".join(f"{name} REAL NOT NULL" for name in PHASES))
DAMAGE = (sqlite3.DatabaseError, UnicodeDecodeError)
"""What SQLite raises on a damaged file (an error message read out of the damaged pages
may not even decode)."""
PENDING_TABLES = ("episodes", "affordance_transitions", "curriculum_transitions")
"""What :meth:`MetricsDB.add_episodes` writes, in the order of its pending rows."""
FLUSH_SECONDS = 0.5
"""How late an episode's rows may reach the file (readers see them by then)."""
REQUIRED_TABLES = ("episodes", "curriculum_transitions", "affordance_transitions", "run_state")
"""What a run's database holds from its first episode on (recordings came later: an older
run gains the table when it resumes)."""


class MetricsDB:
    """Writes a run's metrics. Episodes are written in batches, at most
    :data:`FLUSH_SECONDS` late; every write commits, so readers always see whole episodes.

    A new run creates its database (``create=True``); a resumed run opens the one it has,
    which must be whole: a missing, empty, damaged or foreign file is an error (E312),
    never a silent fresh start that would lose the run's history.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not (self.path.is_file() and self.path.stat().st_size > 0):
            state = "is empty" if self.path.is_file() else "is missing"
            raise damaged(self.path, f"the run's database {state}")
        with self.guard():
            self.connection = sqlite3.connect(self.path)
            self.connection.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL never corrupts the database; a power cut may lose the last rows.
            self.connection.execute("PRAGMA synchronous=NORMAL")
            if not create:
                self._check()
            self.connection.executescript(SCHEMA)
        self._pending: tuple[list[tuple[Any, ...]], ...] = ([], [], [])
        """Rows of :data:`PENDING_TABLES` added, not yet written."""
        self._flushed = time.perf_counter()

    def _check(self) -> None:
        if self.connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise damaged(self.path, "the database fails SQLite's integrity check")
        rows = self.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        missing = sorted(set(REQUIRED_TABLES) - {name for (name,) in rows})
        if missing:
            raise damaged(self.path, f"it has no {', '.join(missing)} table")

    @contextmanager
    def guard(self) -> Iterator[None]:
        """SQLite's failures as HAMLET's: a refused write is E313, anything else E312."""
        try:
            with refused_writes(self.path):
                yield
        except DAMAGE as error:
            raise damaged(self.path, str(error)) from None

    def add_episodes(self, episodes: Iterable[Episode], env_steps: int, loss: float | None) -> None:
        """Rows for ``episodes``, written with the next :meth:`flush`: at most
        :data:`FLUSH_SECONDS` after this, and before any other write or read here."""
        now = time.time()
        for e in episodes:
            self._pending[0].append((
                e.number, e.agent, now, e.steps, e.reward, e.outcome, e.stage, e.multiplier,
                e.epsilon, e.intrinsic_weight, e.entropy, env_steps, loss,
            ))  # fmt: skip
            self._pending[1].extend(
                (e.number, a, b, n) for (a, b), n in sorted(e.affordance_transitions.items())
            )
            t = e.transition
            if t is not None:
                self._pending[2].append((
                    t.episode, now, t.from_stage, t.to_stage, t.reason, t.survival, t.entropy,
                    t.episodes_at_stage,
                ))  # fmt: skip
        if time.perf_counter() - self._flushed >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the episodes added since the last flush, in one transaction (a commit
        for every step that ended episodes took ~5% of a 64-agent run)."""
        self._flushed = time.perf_counter()
        if not any(self._pending):
            return
        rows, self._pending = self._pending, ([], [], [])
        with self.guard(), self.connection:
            for table, values in zip(PENDING_TABLES, rows, strict=True):
                if values:
                    marks = ",".join("?" * len(values[0]))
                    self.connection.executemany(
                        f"INSERT OR REPLACE INTO {table} VALUES ({marks})", values
                    )

    def add_evaluation(self, evaluation: dict[str, Any]) -> None:
        """One row of ``evaluations`` (its keys are the table's columns)."""
        self.flush()
        columns = ", ".join(evaluation)
        marks = ", ".join("?" * len(evaluation))
        with self.guard(), self.connection:
            self.connection.execute(
                f"INSERT OR REPLACE INTO evaluations ({columns}) VALUES ({marks})",
                tuple(evaluation.values()),
            )

    def add_throughput(
        self, window: Throughput, episode: int, agent_steps: int, wall_time: float
    ) -> None:
        """One row of ``throughput``: a window of the run that ends at ``wall_time`` (its
        training time over all sessions), with the run's counts at that moment."""
        self.flush()
        values = (
            wall_time, time.time(), episode, agent_steps, window.seconds,
            window.agent_steps_per_s, window.gradient_steps_per_s,
            *(window.shares[name] for name in PHASES),
        )  # fmt: skip
        with self.guard(), self.connection:
            self.connection.execute(
                f"INSERT OR REPLACE INTO throughput VALUES ({', '.join('?' * len(values))})",
                values,
            )

    def set_state(self, **values: Any) -> None:
        self.flush()
        with self.guard(), self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO run_state VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in values.items()],
            )

    def state(self) -> dict[str, Any]:
        self.flush()
        with self.guard():
            rows = self.connection.execute("SELECT key, value FROM run_state").fetchall()
        try:
            return {k: json.loads(v) for k, v in rows}
        except (TypeError, ValueError) as error:
            raise damaged(self.path, f"its run_state table holds {error}") from None

    def forget_after(self, episodes_done: int) -> None:
        """Drop rows of episodes after a checkpoint (a resumed run writes them again)."""
        self.flush()
        with self.guard(), self.connection:
            tables = ("episodes", "curriculum_transitions", "affordance_transitions", "recordings")
            for table in tables:
                self.connection.execute(f"DELETE FROM {table} WHERE episode >= ?", (episodes_done,))
            # an evaluation's episode counts the episodes done before it, so the one made
            # at the checkpoint itself stays
            self.connection.execute("DELETE FROM evaluations WHERE episode > ?", (episodes_done,))
            self.connection.execute("DELETE FROM throughput WHERE episode > ?", (episodes_done,))

    def close(self) -> None:
        """Write what is pending, and close the file (an error writing is still raised)."""
        try:
            self.flush()
        finally:
            self.connection.close()


def read_episodes(path: str | Path) -> list[dict[str, Any]]:
    """Every episode row, in order (for analysis and tests)."""
    return read_rows(path, "SELECT * FROM episodes ORDER BY episode")


def read_evaluations(path: str | Path) -> list[dict[str, Any]]:
    """Every evaluation row, in order (none for a run from before evaluations existed)."""
    return _read_newer_table(path, "evaluations", "episode")


def read_throughput(path: str | Path) -> list[dict[str, Any]]:
    """Every throughput row, in order (none for a run from before they existed)."""
    return _read_newer_table(path, "throughput", "wall_time")


def _read_newer_table(path: str | Path, table: str, order: str) -> list[dict[str, Any]]:
    """The rows of a table that older runs' databases lack (then none)."""
    tables = read_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    if table not in {t["name"] for t in tables}:
        return []
    return read_rows(path, f"SELECT * FROM {table} ORDER BY {order}")


def read_state(path: str | Path) -> dict[str, Any]:
    """The run_state facts of a run's database (pack, seed, overrides, status, ...)."""
    rows = read_rows(path, "SELECT key, value FROM run_state")
    try:
        return {row["key"]: json.loads(row["value"]) for row in rows}
    except (TypeError, ValueError) as error:
        raise damaged(Path(path), f"its run_state table holds {error}") from None


def read_rows(path: str | Path, query: str) -> list[dict[str, Any]]:
    """The rows of a read-only ``query`` on a run's database, as dicts (E312 when the file
    is missing or damaged)."""
    path = Path(path)
    if not path.is_file():
        raise damaged(path, "the file is missing", reading=True)
    if path.stat().st_size == 0:
        raise damaged(path, "the file is empty", reading=True)
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(query).fetchall()]
        finally:
            connection.close()
    except DAMAGE as error:
        raise damaged(path, str(error), reading=True) from None


def damaged(path: Path, reason: str, *, reading: bool = False) -> RunError:
    """E312: a run's database that cannot be used, to go on with the run or (``reading``)
    to read its history."""
    keep = "" if reading else ", so HAMLET will not start it afresh"
    start = "" if reading else ", or start a new run"
    return RunError(
        Diagnostic(
            "E312",
            f"{path} cannot be used: {reason}",
            hint=f"the run's history is in this file{keep}; restore it from a backup{start} "
            "(its checkpoints still load with hamlet eval and HamletModel.load)",
            file=str(path),
        )
    )

"""Run directories made by hand, with the rows a comparison reads, in a few milliseconds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from hamlet.runtime.runs import MetricsDB


def make_run(
    folder: Path,
    *,
    pack: str = "L0_0_minimal",
    seed: int = 0,
    overrides: dict | None = None,
    survival: Sequence[float] = (10.0, 20.0, 30.0),
    every: int = 50,
    steps_per_episode: int = 20,
    agents: int = 1,
    status: str = "completed",
    episodes: int = 0,
    transitions: Sequence[tuple[int, int]] = (),
    config: dict[str, str] | None = None,
) -> Path:
    """A run directory at ``folder`` whose evaluations have mean survival ``survival`` at
    episodes 0, every, 2*every, ...; ``episodes`` training episodes of
    ``steps_per_episode`` steps each (survival = steps, loss 1/(episode+1), epsilon
    falling); ``transitions`` as (episode, to_stage); ``config``: the snapshot's files
    (default :func:`snapshot` of ``overrides``, as a run writes its settings into it)."""
    (folder / "config").mkdir(parents=True)
    for name, text in (config or snapshot(overrides)).items():
        (folder / "config" / name).write_text(text)
    db = MetricsDB(folder / "metrics.sqlite")
    state = {"pack": pack, "seed": seed, "agents": agents, "status": status}
    if overrides is not None:
        state["overrides"] = overrides
    db.set_state(**state)
    for i, value in enumerate(survival):
        episode = i * every
        db.add_evaluation(
            {
                "episode": episode,
                "agent_steps": episode * steps_per_episode * agents,
                "env_steps": episode * steps_per_episode,
                "wall_time": float(episode),
                "timestamp": 1000.0 + episode,
                "stage": 1,
                "multiplier": 1.0,
                "episodes": 5,
                "mean_survival": float(value),
                "median_survival": float(value),
                "mean_return": float(value),
                "median_return": float(value),
            }
        )
    stage = 1
    with db.connection:
        for episode in range(episodes):
            stage = next((s for e, s in transitions if e == episode), stage)
            db.connection.execute(
                "INSERT INTO episodes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    episode, 0, 1000.0 + episode + 1, steps_per_episode, 1.0, "died", stage,
                    1.0, 1.0 - episode / max(episodes, 1), 0.0, 0.5,
                    (episode + 1) * steps_per_episode, 1.0 / (episode + 1),
                ),
            )  # fmt: skip
        for episode, to_stage in transitions:
            db.connection.execute(
                "INSERT INTO curriculum_transitions VALUES (?,?,?,?,?,?,?,?)",
                (episode, 1000.0 + episode, to_stage - 1, to_stage, "advance", 0.9, 0.5, 10),
            )
    db.close()
    return folder


def snapshot(settings: dict | None) -> dict[str, str]:
    """A config snapshot that says ``settings`` (``run.seed`` aside): a brain.yaml holding
    them, ``{}`` for none. Runs with the same settings get the same snapshot."""
    said = {key: value for key, value in (settings or {}).items() if key != "run.seed"}
    return {"brain.yaml": json.dumps(said, sort_keys=True) + "\n"}


def make_sweep(folder: Path, runs: Sequence[dict]) -> Path:
    """A sweep folder: ``runs`` are manifest entries, each with a ``make`` dict of
    :func:`make_run` arguments (or None for a run not started)."""
    folder.mkdir(parents=True)
    entries = []
    for i, entry in enumerate(runs):
        run_dir = f"runs/r{i:03d}"
        made = entry.pop("make", None)
        if made is not None:  # its snapshot says the manifest's settings, as a sweep's does
            made.setdefault("config", snapshot(entry.get("settings")))
            make_run(folder / run_dir, **made)
        entries.append({"id": f"r{i:03d}", "run_dir": run_dir, **entry})
    manifest = {"format": "hamlet_sweep_v1", "name": folder.name, "runs": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder

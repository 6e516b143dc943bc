"""``sweep.yaml``: a sweep written down, checked against ``sweep.schema.json``.

>>> from hamlet.schemas.source import parse_yaml
>>> sweep = parse_sweep(parse_yaml('''
... packs: [L0_0_minimal]
... seeds: 3
... grid: {learning.learning_rate: [0.0001, 0.001]}
... budget: {agent_steps: 20000}
... '''))
>>> sweep.seed_list, sweep.budget.agent_steps
([0, 1, 2], 20000)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from .pack_world import ConfigModel
from .source import YamlDocument, load_yaml
from .validate import parse_model, validate_document


class Budget(ConfigModel):
    """When each run of the sweep stops (every given one applies)."""

    episodes: int | None = None
    agent_steps: int | None = None
    """The reproducible budget: the same on any machine."""
    minutes: float | None = None


class SweepFile(ConfigModel):
    """The contents of a ``sweep.yaml``."""

    name: str | None = None
    """The sweep's folder under sweeps/ (default: from the packs and the sweep's hash)."""
    packs: list[str]
    """Config packs: folders or shipped pack names."""
    seeds: int | list[int]
    """How many seeds, or the seeds."""
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    """Settings to vary: every combination of their values is run."""
    set: dict[str, Any] = Field(default_factory=dict)
    """Settings every run gets."""
    budget: Budget
    agents: int | None = None
    """Agents of each run (default: each pack's ``run.agents``)."""
    workers: int | None = None
    """Runs at once on the local backend (default: the number of cores)."""
    backend: Literal["local", "ray"] = "local"
    address: str | None = None
    """The Ray cluster to join; without it a local Ray is started."""
    device: str = "cpu"

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


def parse_sweep(doc: YamlDocument) -> SweepFile:
    """Validate a parsed ``sweep.yaml``; every problem is a located SpecError."""
    validate_document(doc, "sweep")
    return parse_model(doc, SweepFile)


def load_sweep(path: str | Path) -> SweepFile:
    """Read and validate a ``sweep.yaml``."""
    return parse_sweep(load_yaml(path))

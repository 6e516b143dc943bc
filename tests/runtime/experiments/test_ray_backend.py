"""The Ray backend runs the same sweep as the local one, into the same run directories and
the same manifest, on a local Ray with 2 CPUs started by the test."""

from __future__ import annotations

import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.experiments.manifest import Manifest
from hamlet.runtime.experiments.sweep import run_sweep, sweep_from_command_line
from hamlet.runtime.runs import read_episodes, read_evaluations

from ..conftest import tiny_pack

ray = pytest.importorskip("ray", reason="the cluster extra (pip install -e '.[cluster]')")


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield
    ray.shutdown()


def _without_times(rows):
    return [{k: v for k, v in r.items() if k not in ("timestamp", "wall_time")} for r in rows]


def test_ray_and_local_backends_make_the_same_sweep(tmp_path, local_ray):
    pack = tiny_pack(tmp_path)

    def sweep(backend: str):
        spec = sweep_from_command_line(
            [str(pack)], seeds=2, episodes=3, workers=2, backend=backend, name="same",
            sets=["run.checkpoint_every=2"],
        )  # fmt: skip
        return run_sweep(spec, out=tmp_path / backend, quiet=True)

    local, on_ray = sweep("local"), sweep("ray")
    assert local.counts == on_ray.counts and local.counts["finished"] == 2
    assert ray.is_initialized()  # the sweep left the Ray it was given running
    a, b = Manifest.read(local.folder), Manifest.read(on_ray.folder)
    assert {k: v for k, v in a.data.items() if k != "created_at"} == {
        k: v for k, v in b.data.items() if k != "created_at"
    }
    for run in a.runs:
        left, right = local.folder / run["run_dir"], on_ray.folder / run["run_dir"]
        assert sorted(p.relative_to(left).as_posix() for p in left.rglob("*") if "-wal" not in p.name) == sorted(
            p.relative_to(right).as_posix() for p in right.rglob("*") if "-wal" not in p.name
        )  # fmt: skip
        for table in (read_episodes, read_evaluations):
            assert _without_times(table(left / "metrics.sqlite")) == _without_times(
                table(right / "metrics.sqlite")
            )
        final = "checkpoints/model_ep000003.pt"
        x, y = HamletModel.load(left / final), HamletModel.load(right / final)
        for p, q in zip(x.module.parameters(), y.module.parameters(), strict=True):
            assert torch.equal(p, q)

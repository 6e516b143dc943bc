"""Finding runs (run directories, folders of runs, sweeps) and grouping them by settings."""

from __future__ import annotations

import doctest
import hashlib
import json

import pytest

from hamlet.runtime.experiments import groups
from hamlet.runtime.experiments.groups import find_runs, format_settings, group_runs
from hamlet.schemas.errors import RunError

from .conftest import make_run, make_sweep, snapshot

LR = {"learning.learning_rate": 0.0001}


def test_runs_that_differ_only_in_their_seed_form_one_group(tmp_path):
    make_run(tmp_path / "runs" / "a", seed=0)
    make_run(tmp_path / "runs" / "b", seed=1, overrides=LR)
    make_run(tmp_path / "runs" / "c", seed=1, overrides={})
    make_run(tmp_path / "runs" / "d", seed=2, overrides=LR)
    make_run(tmp_path / "runs" / "e", seed=0, pack="L1_full_observability")
    found = group_runs(find_runs([tmp_path / "runs"]))
    assert [(g.id, g.pack, g.settings, [r.seed for r in g.runs]) for g in found] == [
        ("A", "L0_0_minimal", {}, [0, 1]),
        ("B", "L0_0_minimal", LR, [1, 2]),
        ("C", "L1_full_observability", {}, [0]),
    ]
    assert found[1].description == "L0_0_minimal learning.learning_rate=0.0001"


def test_groups_follow_the_order_the_runs_are_named_in_and_a_run_counts_once(tmp_path):
    a = make_run(tmp_path / "a", overrides=LR)
    b = make_run(tmp_path / "b")
    runs = find_runs([a, b, a, tmp_path / "a" / ".." / "a"])
    assert [r.path for r in runs] == [a, b]
    assert [g.settings for g in group_runs(runs)] == [LR, {}]


def test_a_folder_of_pack_folders_is_searched_two_levels_deep(tmp_path):
    make_run(tmp_path / "runs" / "L0_0_minimal" / "2026-01-01_120000")
    make_run(tmp_path / "runs" / "L0_0_minimal" / "2026-01-01_130000", seed=1)
    assert [r.seed for r in find_runs([tmp_path / "runs"])] == [0, 1]


def test_a_run_reads_its_status_evaluations_and_agents(tmp_path):
    make_run(tmp_path / "r", survival=[1.0, 2.0], status="running", agents=4)
    (run,) = find_runs([tmp_path / "r"])
    assert (run.status, run.finished, run.agents) == ("running", False, 4)
    assert [e["mean_survival"] for e in run.evaluations] == [1.0, 2.0]
    assert run.final["episode"] == 50


def test_runs_of_a_pack_edited_between_them_are_told_apart_by_their_config(tmp_path):
    brain = "network: {hidden: 64}  # the first try\n"
    make_run(tmp_path / "a", config={"brain.yaml": brain, "training.yaml": "run: {seed: 0}\n"})
    # the same data, other comments and layout, another seed: the same thing tried
    make_run(tmp_path / "b", seed=1, config={"brain.yaml": "network:\n  hidden: 64\n",
                                             "training.yaml": "run:\n  seed: 7\n"})  # fmt: skip
    make_run(tmp_path / "c", config={"brain.yaml": "network: {hidden: 128}\n",
                                     "training.yaml": "run: {seed: 0}\n"})  # fmt: skip
    make_run(tmp_path / "d", overrides={"run.seed": 3}, config={"brain.yaml": brain})
    found = group_runs(find_runs([tmp_path]))
    assert [[r.path.name for r in g.runs] for g in found] == [["a", "b"], ["c"], ["d"]]
    # digests: sha256 of the canonical JSON, as a spec hash is made; training.yaml's
    # without its seed
    brain_64, brain_128, training = (
        hashlib.sha256(text.encode()).hexdigest()[:8]
        for text in ('{"network":{"hidden":64}}', '{"network":{"hidden":128}}', '{"run":{}}')
    )
    assert [g.variant for g in found] == [
        f"brain sha256:{brain_64}, training.yaml {training}",
        f"brain sha256:{brain_128}, training.yaml {training}",
        f"brain sha256:{brain_64}, no training.yaml",
    ]
    assert found[2].description == f"L0_0_minimal brain sha256:{brain_64}, no training.yaml"
    assert found[2].settings == {}  # run.seed is the seed, not a setting


def test_runs_that_came_to_the_same_config_two_ways_pool_their_seeds(tmp_path):
    # a --set of the value the pack already has, beside runs of the pack as it is: the
    # snapshots say the same, so the seeds are of one thing tried
    same = snapshot(LR)
    make_run(tmp_path / "runs" / "a", seed=0, overrides=LR, config=same)
    make_run(tmp_path / "runs" / "b", seed=1, overrides={}, config=same)
    make_run(tmp_path / "runs" / "c", seed=2, overrides=LR, config=same)
    make_run(tmp_path / "runs" / "d", seed=3, overrides={"learning.gamma": 0.9})
    found = group_runs(find_runs([tmp_path / "runs"]))
    assert [([r.seed for r in g.runs], g.settings, g.also) for g in found] == [
        ([0, 1, 2], LR, [{}]),
        ([3], {"learning.gamma": 0.9}, []),
    ]
    assert found[0].changes == "learning.learning_rate=0.0001 or as in the pack"
    assert found[0].description == "L0_0_minimal learning.learning_rate=0.0001 or as in the pack"


def test_two_sweeps_of_one_config_pool_and_a_queued_run_joins_its_settings(tmp_path):
    by_set = make_sweep(
        tmp_path / "by-set",
        [
            {"pack": "L0_0_minimal", "seed": 0, "settings": LR, "status": "finished",
             "make": {"seed": 0, "config": snapshot(LR)}},
            {"pack": "L0_0_minimal", "seed": 1, "settings": LR, "status": "queued"},
        ],
    )  # fmt: skip
    shipped = make_sweep(
        tmp_path / "shipped",
        [{"pack": "L0_0_minimal", "seed": 2, "settings": {}, "status": "finished",
          "make": {"seed": 2, "config": snapshot(LR)}}],
    )  # fmt: skip
    (group,) = group_runs(find_runs([by_set, shipped]))
    assert [r.seed for r in group.runs] == [0, 1, 2]
    assert (group.settings, group.also) == (LR, [{}])


def test_a_sweep_takes_pack_settings_and_seed_from_its_manifest(tmp_path):
    sweep = make_sweep(
        tmp_path / "sweeps" / "lr",
        [
            {"pack": "L0_0_minimal", "seed": 0, "settings": LR, "status": "finished",
             "make": {"seed": 99, "overrides": {}}},
            {"pack": "L0_0_minimal", "seed": 1, "settings": LR, "status": "running",
             "make": {"seed": 1, "status": "running"}},
            {"pack": "L0_0_minimal", "seed": 2, "settings": LR, "status": "queued"},
        ],
    )  # fmt: skip
    (group,) = group_runs(find_runs([sweep]))
    assert group.settings == LR and [r.seed for r in group.runs] == [0, 1, 2]
    assert [r.status for r in group.runs] == ["completed", "running", "queued"]
    assert [len(r.evaluations) for r in group.runs] == [3, 3, 0]
    assert group.runs[2].path == sweep / "runs" / "r002"


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        ("{not json", "cannot be read as JSON"),
        (json.dumps({"format": "other", "runs": []}), "not a hamlet_sweep_v1 manifest"),
        (json.dumps({"format": "hamlet_sweep_v1", "runs": [{"pack": "x"}]}), "its runs are"),
        (
            json.dumps(
                {
                    "format": "hamlet_sweep_v1",
                    "runs": [
                        {
                            "id": "r0",
                            "pack": "x",
                            "seed": 0,
                            "run_dir": "r",
                            "settings": [1],
                            "status": "finished",
                        }
                    ],
                }
            ),
            "its runs are",
        ),
    ],
)
def test_a_damaged_manifest_is_e310(tmp_path, manifest, reason):
    (tmp_path / "manifest.json").write_text(manifest)
    with pytest.raises(RunError) as raised:
        find_runs([tmp_path])
    assert raised.value.code == "E310" and reason in str(raised.value)
    assert raised.value.file == str(tmp_path / "manifest.json")


def test_a_folder_without_runs_is_e310(tmp_path):
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(RunError) as raised:
            find_runs([path])
        assert raised.value.code == "E310" and "sweep folders" in raised.value.hint


def test_a_damaged_database_is_e312(tmp_path):
    run = make_run(tmp_path / "r")
    (run / "metrics.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(RunError) as raised:
        find_runs([run])
    assert raised.value.code == "E312"


def test_settings_read_as_key_value_pairs():
    assert format_settings({}) == "as in the pack"
    assert format_settings({"b": "adam", "a": [1, 2], "c": 0.5}) == "a=[1, 2], b=adam, c=0.5"


def test_docstring_examples():
    result = doctest.testmod(groups)
    assert result.attempted > 0 and result.failed == 0

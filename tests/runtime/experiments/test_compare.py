"""``hamlet compare``: the table, --json, curves after it or in a file, and its errors."""

from __future__ import annotations

import json
import sys

import pytest

from hamlet.runtime.cli import main
from hamlet.runtime.experiments.compare import compare_runs
from hamlet.runtime.experiments.stats import improvement_estimate, iqm_estimate

from .conftest import make_run, make_sweep

LR = {"learning.learning_rate": 0.001}
A_FINALS, B_FINALS = [10, 20, 30, 40, 50], [35, 45, 55]


@pytest.fixture
def runs(tmp_path):
    """A: the pack, final survivals 10 20 30 40 50 (IQM 30); B: a learning rate, 35 45 55
    (IQM 45), one of them still running; C: a run not evaluated yet."""
    for seed, final in enumerate(A_FINALS):
        make_run(tmp_path / "runs" / f"a{seed}", seed=seed, survival=[5, final])
    for seed, final in enumerate(B_FINALS):
        status = "running" if seed == 2 else "completed"
        make_run(tmp_path / "runs" / f"b{seed}", seed=seed, survival=[5, final], overrides=LR,
                 status=status)  # fmt: skip
    make_run(tmp_path / "runs" / "c0", survival=[], overrides={"x": 1}, status="running")
    return tmp_path / "runs"


def test_the_table_has_each_groups_iqm_interval_and_the_pairs(runs, capsys):
    assert main(["compare", str(runs), "--reps", "500"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["group", "pack", "settings", "runs", "final", "evaluation", "IQM",
                              "survival", "95%", "CI"]  # fmt: skip
    # A: 5 values, drop one at each end: (20+30+40)/3; B: 3 values, none dropped: 45
    assert out[1].split()[:6] == ["A", "L0_0_minimal", "as", "in", "the", "pack"]
    a = iqm_estimate(A_FINALS, reps=500)
    assert out[1].split()[-6:] == ["5", "episode", "50", "30.0", f"[{a.low:.1f},", f"{a.high:.1f}]"]
    assert out[2].split()[2:8] == ["learning.learning_rate=0.001", "3", "(1", "unfinished)",
                                   "episode", "50"]  # fmt: skip
    assert out[2].split()[8] == "45.0"
    assert out[3].split()[:4] == ["C", "L0_0_minimal", "x=1", "0"]
    assert out[3].split()[-4:] == ["none", "yet", "-", "-"]
    # P(A > B): of the 15 pairs only 40 > 35, 50 > 35 and 50 > 45 -> 3/15
    pair = next(line for line in out if line.startswith("A  B"))
    assert pair.split()[2] == "0.20"
    assert "unfinished, counted with their last evaluation:" in out
    assert any(line.startswith("  B  ") and line.endswith("running, last evaluated at episode 50")
               for line in out)  # fmt: skip
    assert "no evaluation yet, left out:" in out
    # the curves follow, in the terminal
    assert any("evaluation survival (mean steps)" in line for line in out)


def test_json_has_the_same_figures_for_scripts(runs, capsys):
    assert main(["compare", str(runs), "--json", "--reps", "500"]) == 0
    data = json.loads(capsys.readouterr().out)
    a, b, c = data["groups"]
    assert (a["id"], a["settings"], a["iqm"]["value"]) == ("A", {}, 30.0)
    expected = iqm_estimate(A_FINALS, reps=500)
    assert a["iqm"]["ci"] == [expected.low, expected.high] and a["iqm"]["confidence"] == 0.95
    assert (b["settings"], b["iqm"]["value"]) == (LR, 45.0)
    assert [r["finished"] for r in b["runs"]] == [True, True, False]
    assert c["iqm"] is None and c["runs"][0]["score"] is None
    (pair,) = data["improvements"]
    assert (pair["x"], pair["y"], pair["probability"]["value"]) == ("A", "B", pytest.approx(0.2))
    assert pair["probability"] == improvement_estimate(A_FINALS, B_FINALS, reps=500).to_json()
    assert data["reps"] == 500


def test_the_estimates_are_the_statistics_modules_with_the_same_reps_and_seed(runs):
    comparison = compare_runs([runs], reps=300, seed=4)
    assert comparison.scores["A"] == iqm_estimate(A_FINALS, reps=300, seed=4)
    assert comparison.scores["B"] == iqm_estimate(B_FINALS, reps=300, seed=4)
    assert comparison.scores["C"] is None
    (pair,) = comparison.improvements
    assert (pair.x, pair.y) == ("A", "B")
    assert pair.estimate == improvement_estimate(A_FINALS, B_FINALS, reps=300, seed=4)


def test_every_pair_of_evaluated_groups_is_compared(tmp_path):
    for i, settings in enumerate([{}, {"k": 1}, {"k": 2}]):
        make_run(tmp_path / f"r{i}", overrides=settings, survival=[i])
    comparison = compare_runs([tmp_path], reps=10)
    assert [(i.x, i.y, i.estimate.value) for i in comparison.improvements] == [
        ("A", "B", 0.0), ("A", "C", 0.0), ("B", "C", 0.0),
    ]  # fmt: skip


def test_a_sweep_and_loose_runs_compare_together(tmp_path, capsys):
    sweep = make_sweep(
        tmp_path / "sweep",
        [{"pack": "L0_0_minimal", "seed": s, "settings": LR, "status": "finished",
          "make": {"seed": s, "survival": [5, 40 + s]}} for s in range(2)],
    )  # fmt: skip
    loose = make_run(tmp_path / "base", survival=[5, 10])
    assert main(["compare", str(loose), str(sweep), "--json", "--reps", "50"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert [(g["id"], g["settings"], len(g["runs"])) for g in groups] == [
        ("A", {}, 1),
        ("B", LR, 2),
    ]


def test_curves_go_into_a_file_with_plot(runs, tmp_path, capsys):
    assert main(["compare", str(runs), "--plot", str(tmp_path / "c.png"), "--reps", "50"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(f"wrote {tmp_path / 'c.png'}")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["compare", str(runs), "--json", "--plot", str(tmp_path / "c.svg"),
                 "--x", "episodes", "--reps", "50"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["plot"] == str(tmp_path / "c.svg")
    assert (tmp_path / "c.svg").is_file()


def test_without_plotext_the_tables_still_come_with_a_warning(runs, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "plotext", None)
    assert main(["compare", str(runs), "--reps", "50"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("group") and "evaluation survival" not in captured.out
    assert "warning[E303]" in captured.err and "pip install 'hamlet[plot]'" in captured.err


def test_without_matplotlib_plot_is_e303_naming_the_extra(runs, monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["compare", str(runs), "--plot", str(tmp_path / "c.png")]) == 1
    err = capsys.readouterr().err
    assert "error[E303]" in err and "needs matplotlib" in err and "hamlet[plot]" in err
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize(
    ("argv", "code", "status", "says"),
    [
        (["{tmp}/nowhere"], "E310", 1, "is not a run directory, a folder of runs or a sweep"),
        (["{tmp}/bare"], "E310", 1, "none of the 1 run(s) has an evaluation yet"),
        (["{tmp}/damaged"], "E312", 1, "cannot be used"),
        (["{tmp}/bare", "--plot", "c.jpg"], "E300", 2, "--plot c.jpg cannot be used"),
        (["{tmp}/bare", "--reps", "100001"], "E300", 2, "--reps 100001 cannot be used"),
    ],
)
def test_what_cannot_be_compared_is_a_coded_error(tmp_path, capsys, argv, code, status, says):
    make_run(tmp_path / "bare", survival=[])
    make_run(tmp_path / "damaged")
    (tmp_path / "damaged" / "metrics.sqlite").write_bytes(b"\0" * 4096)
    assert main(["compare", *(a.format(tmp=tmp_path) for a in argv)]) == status
    err = capsys.readouterr().err
    assert f"error[{code}]" in err and says in err and "Traceback" not in err


def test_a_seed_run_twice_in_a_group_is_pointed_out(tmp_path, capsys):
    make_run(tmp_path / "r0", seed=0, survival=[10])
    make_run(tmp_path / "r1", seed=0, survival=[20])  # the same seed, another budget
    make_run(tmp_path / "r2", seed=1, survival=[30])
    assert main(["compare", str(tmp_path), "--reps", "10"]) == 0
    out = capsys.readouterr().out
    assert "a repeat of a seed is not an independent one" in out
    assert "  A  seed 0: 2 runs" in out and "seed 1:" not in out

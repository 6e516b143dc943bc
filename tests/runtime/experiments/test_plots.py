"""Pictures of learning curves: PNG and SVG files, text for the terminal, ``hamlet plot``,
and what happens without the plot extra."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import pytest

from hamlet.runtime.cli import main
from hamlet.runtime.experiments.curves import learning_curves
from hamlet.runtime.experiments.groups import find_runs, group_runs
from hamlet.runtime.experiments.plots import label_rows, save_figure, terminal_plot

from .conftest import make_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def two_groups(tmp_path):
    """Groups A (the pack) and B (a learning rate), two seeds each, with a stage change."""
    for seed in range(2):
        make_run(tmp_path / "runs" / f"a{seed}", seed=seed, survival=[5, 10 + seed, 20],
                 episodes=101, transitions=[(30, 2)])  # fmt: skip
        make_run(tmp_path / "runs" / f"b{seed}", seed=seed, survival=[5, 15, 30 + seed],
                 overrides={"learning.learning_rate": 0.001}, episodes=101)  # fmt: skip
    return tmp_path / "runs"


def _curves(runs, **options):
    return learning_curves(group_runs(find_runs([runs])), reps=100, **options)


def _lines(figure):
    return sorted(line.get_gid() for ax in figure.axes for line in ax.get_lines() if line.get_gid())


def test_a_png_has_a_line_per_group_on_each_panel_and_the_stage_change(two_groups, tmp_path):
    curves = _curves(two_groups, metrics=["eval_survival", "loss"])
    figure = save_figure(curves, tmp_path / "curves.png", title="t")
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG_SIGNATURE
    assert _lines(figure) == [
        "curve-eval_survival-A", "curve-eval_survival-B", "curve-loss-A", "curve-loss-B",
        "stage-eval_survival-A-2", "stage-loss-A-2",
    ]  # fmt: skip
    bands = [c.get_gid() for ax in figure.axes for c in ax.collections]
    assert sorted(bands) == ["band-eval_survival-A", "band-eval_survival-B", "band-loss-A",
                             "band-loss-B"]  # fmt: skip
    assert [ax.get_ylabel() for ax in figure.axes] == ["evaluation survival (mean steps)", "loss"]
    assert figure.axes[-1].get_xlabel() == "agent steps"


def test_an_svg_parses_and_names_each_groups_curve(two_groups, tmp_path):
    save_figure(_curves(two_groups), tmp_path / "curves.svg", title="t")
    root = ET.parse(tmp_path / "curves.svg").getroot()
    assert root.tag == f"{SVG}svg"
    ids = {element.get("id") for element in root.iter()}
    assert {i for i in ids if i and i.startswith(("curve-", "band-"))} == {
        "curve-eval_survival-A", "curve-eval_survival-B", "band-eval_survival-A",
        "band-eval_survival-B",
    }  # fmt: skip
    # the same curves give the same file (no date in it)
    first = (tmp_path / "curves.svg").read_bytes()
    save_figure(_curves(two_groups), tmp_path / "curves.svg", title="t")
    assert (tmp_path / "curves.svg").read_bytes() == first


def test_a_group_of_one_run_has_no_band(tmp_path):
    run = make_run(tmp_path / "r")
    figure = save_figure(_curves(run), tmp_path / "one.svg", title="t")
    assert _lines(figure) == ["curve-eval_survival-A"]
    assert not figure.axes[0].collections


def test_the_terminal_shows_each_group_by_its_letter_without_colour(two_groups):
    text = terminal_plot(_curves(two_groups, metrics=["eval_survival", "epsilon"]), width=70,
                         color=False, title="runs")  # fmt: skip
    lines = text.splitlines()
    assert "\x1b[" not in text and max(map(len, lines)) <= 70
    assert "runs: evaluation survival (mean steps)" in lines[0]
    assert sum("epsilon" in line for line in lines) == 1
    assert lines[-1].strip() == "agent steps"
    plot_area = "\n".join(line for line in lines if "┤" in line or line.startswith("    │"))
    assert "A: L0_0_minimal" in plot_area and "B: L0_0_minimal" in plot_area
    assert plot_area.count("A") > 10 and plot_area.count("B") > 10  # the lines themselves
    assert "\x1b[" in terminal_plot(_curves(two_groups), width=70, color=True)


def test_hamlet_plot_draws_one_run_in_the_terminal_or_into_a_file(two_groups, tmp_path, capsys):
    run = two_groups / "a0"
    assert main(["plot", str(run), "--x", "episodes", "--metric", "train_survival"]) == 0
    out = capsys.readouterr().out
    assert "L0_0_minimal, seed 0 (completed): training survival (steps)" in out
    assert "training episodes" in out
    assert main(["plot", str(run), "--plot", str(tmp_path / "run.svg")]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'run.svg'}\n"
    ET.parse(tmp_path / "run.svg")


@pytest.mark.parametrize(
    ("argv", "code", "status"),
    [
        (["plot", "{runs}"], "E310", 1),  # a folder of runs is not a run
        (["plot", "{runs}/a0", "--plot", "curves.pdf"], "E300", 2),
        (["plot", "{runs}/missing"], "E310", 1),
    ],
)
def test_hamlet_plot_refuses_what_it_cannot_draw_with_a_code(
    two_groups, capsys, argv, code, status
):
    assert main([a.format(runs=two_groups) for a in argv]) == status
    err = capsys.readouterr().err
    assert f"error[{code}]" in err and "Traceback" not in err


@pytest.mark.parametrize(("module", "argv"), [("matplotlib", ["--plot", "c.png"]), ("plotext", [])])
def test_without_the_plot_extra_hamlet_plot_says_what_to_install(two_groups, monkeypatch, capsys,
                                                                 module, argv):  # fmt: skip
    monkeypatch.setitem(sys.modules, module, None)  # import matplotlib / plotext fails
    monkeypatch.chdir(two_groups)
    assert main(["plot", "a0", *argv]) == 1
    err = capsys.readouterr().err
    assert "error[E303]" in err and f"needs {module}, which is not installed" in err
    assert "pip install 'hamlet[plot]'" in err


def test_stage_labels_reached_close_together_do_not_overlap(tmp_path):
    """Stages 2 to 5 reached within a few episodes (as L2's curriculum does): each label
    is drawn where no other covers it, the first on the top line."""
    for seed in range(2):
        make_run(tmp_path / "runs" / f"a{seed}", seed=seed, survival=[5, 10, 20, 30, 40],
                 episodes=201, transitions=[(100, 2), (104, 3), (108, 4), (160, 5)])  # fmt: skip
    figure = save_figure(_curves(tmp_path / "runs"), tmp_path / "stages.png", title="t")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)  # as the PNG was drawn
    canvas.draw()
    renderer = canvas.get_renderer()
    labels = {text.get_text(): text.get_window_extent(renderer) for text in figure.axes[0].texts}
    assert sorted(labels) == ["stage 2", "stage 3", "stage 4", "stage 5"]
    boxes = list(labels.values())
    for i, box in enumerate(boxes):
        for other in boxes[i + 1 :]:
            assert not box.overlaps(other)
    # stage 5 is far enough from the rest to share the top line with stage 2
    assert labels["stage 5"].y0 == pytest.approx(labels["stage 2"].y0)
    assert labels["stage 3"].y0 < labels["stage 2"].y0


def test_label_rows_take_the_first_line_with_room():
    assert label_rows([0, 1, 2, 10, 10.5], gap=3) == [0, 1, 2, 0, 1]
    assert label_rows([], gap=3) == []

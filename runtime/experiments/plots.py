"""Pictures of learning curves: PNG or SVG files (matplotlib), or text for the terminal
(plotext); and ``hamlet plot``, one run's curves.

Both are optional (``pip install 'hamlet[plot]'``): they are imported when a picture is
asked for, and their absence is a coded error (E300) that says what to install (for
``hamlet compare``'s terminal curves, a warning after the tables).

A file has a panel per figure, a line per group (the IQM over its seeds) with its 95%
band when the group has more than one run, and dotted vertical lines where the
curriculum moved on to a stage. The terminal shows the same lines, each drawn with its
group's letter, without the bands. Files are drawn on a bare ``Figure`` (no pyplot, no
global backend: PNG goes through Agg), and every line and band carries an id that an
SVG keeps: ``curve-<metric>-<group>``, ``band-...``, ``stage-<metric>-<group>-<stage>``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from hamlet.runtime.files import write_atomically
from hamlet.schemas.errors import UsageError

from . import extras
from .curves import Curves, learning_curves
from .groups import group_runs, read_run

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = (".png", ".svg")
INSTALL = "pip install 'hamlet[plot]'"
PANEL_HEIGHT = 16
"""Terminal rows per panel."""
MAX_WIDTH = 120


def check_plot_file(plot: str | Path) -> Path:
    """``plot`` as a path (E300 unless it ends in .png or .svg)."""
    path = Path(plot)
    if path.suffix.lower() not in FORMATS:
        raise UsageError.option("--plot", plot, "a file name ending in .png or .svg")
    return path


def save_figure(curves: Curves, path: str | Path, *, title: str) -> Figure:
    """Draw ``curves`` into a PNG or SVG file at ``path`` (written whole or not at all;
    E313 if it cannot be written); returns the figure."""
    path = check_plot_file(path)
    matplotlib = require("matplotlib")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 1.5 + 3 * len(curves.panels)), layout="constrained")
    axes = figure.subplots(len(curves.panels), 1, sharex=True, squeeze=False)[:, 0]
    colors = _colors(curves)
    for ax, panel in zip(axes, curves.panels, strict=True):
        for curve in panel.curves:
            color = colors[curve.group]
            gid = f"{panel.metric.name}-{curve.group}"
            marker = "o" if curve.x.size == 1 else None
            ax.plot(curve.x, curve.iqm, color=color, label=curve.label, gid=f"curve-{gid}",
                    marker=marker)  # fmt: skip
            if curve.runs > 1:
                ax.fill_between(curve.x, curve.low, curve.high, color=color, alpha=0.2,
                                linewidth=0, gid=f"band-{gid}")  # fmt: skip
        for change in curves.stage_changes:
            ax.axvline(change.x, color=colors[change.group], linestyle=":", linewidth=1,
                       gid=f"stage-{panel.metric.name}-{change.group}-{change.stage}")  # fmt: skip
        ax.set_ylabel(panel.metric.label)
        ax.grid(alpha=0.3)
    _label_stage_changes(axes[0], curves, colors)
    axes[-1].set_xlabel(curves.x_label)
    axes[0].legend(loc="best", fontsize=8)
    figure.suptitle(title, fontsize=10)
    suffix = path.suffix.lower()[1:]
    # the same curves, the same file: no date, and SVG ids from a fixed salt, not a random one
    metadata = {"Date": None} if suffix == "svg" else {}
    with matplotlib.rc_context({"svg.hashsalt": "hamlet"}):
        write_atomically(path, lambda out: figure.savefig(out, format=suffix, metadata=metadata))
    return figure


LABEL_GAP = 0.08
"""Stage labels closer than this share of the x range go on separate lines."""


def _label_stage_changes(ax: Any, curves: Curves, colors: dict[str, str]) -> None:
    """Name each stage line at the top of ``ax``; labels that would overlap (stages
    reached close together) step down a line each."""
    low, high = ax.get_xlim()
    changes = sorted(curves.stage_changes, key=lambda change: change.x)
    rows = label_rows([change.x for change in changes], LABEL_GAP * (high - low))
    for change, row in zip(changes, rows, strict=True):
        ax.annotate(
            f"{change.group}{change.stage}" if len(colors) > 1 else f"stage {change.stage}",
            (change.x, 1), xycoords=("data", "axes fraction"), xytext=(2, -10 - 9 * row),
            textcoords="offset points", fontsize=7, color=colors[change.group],
        )  # fmt: skip


def label_rows(xs: Sequence[float], gap: float) -> list[int]:
    """A line for each label at ``xs`` (sorted): the first line whose last label is at
    least ``gap`` to the left, so that labels on one line never overlap."""
    ends: list[float] = []  # the x of the last label on each line
    rows = []
    for x in xs:
        row = next((i for i, end in enumerate(ends) if x - end >= gap), len(ends))
        if row == len(ends):
            ends.append(x)
        else:
            ends[row] = x
        rows.append(row)
    return rows


def terminal_plot(
    curves: Curves, *, width: int | None = None, color: bool | None = None, title: str = ""
) -> str:
    """``curves`` as text: a panel per figure, each group's line drawn with its letter,
    stage changes as vertical lines. ``width`` defaults to the terminal's (at most
    120 columns); ``color`` to whether standard output is a terminal (and NO_COLOR unset).
    """
    plt = require("plotext")
    if width is None:
        width = min(shutil.get_terminal_size().columns, MAX_WIDTH)
    if color is None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    _clear(plt)
    try:
        plt.limitsize(False, False)  # not the terminal's height: the text can scroll
        plt.plotsize(width, PANEL_HEIGHT * len(curves.panels))
        plt.subplots(len(curves.panels), 1)
        for row, panel in enumerate(curves.panels, start=1):
            plt.subplot(row, 1)
            if not color:
                plt.theme("clear")
            for curve in panel.curves:
                plt.plot(_floats(curve.x), _floats(curve.iqm), marker=curve.group,
                         label=curve.label)  # fmt: skip
            for change in curves.stage_changes:
                plt.vline(change.x, "gray")
            plt.title(
                f"{title}: {panel.metric.label}" if title and row == 1 else panel.metric.label
            )
        plt.xlabel(curves.x_label)
        text = plt.build()
    finally:
        _clear(plt)
    return text if color else plt.uncolorize(text)


def plot_run(
    path: str | Path,
    *,
    plot: str | Path | None = None,
    x: str = "agent_steps",
    metrics: Sequence[str] | None = None,
    color: bool | None = None,
) -> str:
    """``hamlet plot``: one run's curves, into a file (``plot``) or as text for the
    terminal; returns what to print."""
    file = None if plot is None else check_plot_file(plot)
    require("plotext" if file is None else "matplotlib")  # before the work, not after it
    run = read_run(Path(path))
    (group,) = group_runs([run])
    curves = learning_curves([group], x=x, metrics=metrics)
    title = f"{group.description}, seed {run.seed} ({run.status})"
    if file is None:
        return terminal_plot(curves, color=color, title=title)
    save_figure(curves, file, title=title)
    return f"wrote {file}"


def require(name: str) -> ModuleType:
    """The optional module ``name`` (matplotlib or plotext), or E303 saying what to install."""
    return extras.require(name, "plot", "drawing learning curves", "--plot")


def _clear(plt: ModuleType) -> None:
    """Reset plotext's one global figure, grid of subplots included (``clear_figure``
    alone clears only the active subplot)."""
    plt.main()
    plt.clear_figure()


def _colors(curves: Curves) -> dict[str, str]:
    """One matplotlib colour per group, the same on every panel."""
    groups = dict.fromkeys(c.group for panel in curves.panels for c in panel.curves)
    groups.update(dict.fromkeys(change.group for change in curves.stage_changes))
    return {group: f"C{i % 10}" for i, group in enumerate(groups)}


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]

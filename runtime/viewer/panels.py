"""Drawing the words around the town: the episode panel, training figures and status line.

Like :mod:`.render`, every function returns a Rich ``Text`` built from plain values, so
the app stays a thin shell around them and tests read the very text on screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from .model import Episode, Step, World

LABEL_WIDTH = 10
SEPARATOR = ("  │  ", "grey42")
NARROW_SEPARATOR = (" │ ", "grey42")


def _row(text: Text, label: str, *values: str | tuple[str, str]) -> None:
    """Append ``label  value...`` as one line of the episode panel."""
    if text:
        text.append("\n")
    text.append(f"{label:<{LABEL_WIDTH}}", "bold")
    for value in values:
        text.append(*((value,) if isinstance(value, str) else value))


def info_text(world: World, episode: Episode, step: Step) -> Text:
    """Episode number, progress, reward so far, ε, stage, clock, outcome, source.

    The outcome shows only on the last step: before that, students should not know it.
    """
    message = episode.message
    text = Text()
    _row(text, "Episode", (f"{episode.number}", "bold"), f"  agent {message['agent']}")
    _row(text, "Step", f"{step.index + 1} / {episode.length}")
    _row(
        text, "Position", f"({step.position[0]}, {step.position[1]})", *_standing_on(episode, step)
    )
    _row(
        text,
        "Reward",
        (f"{step.cumulative_reward:+.2f}", _sign_style(step.cumulative_reward)),
        f"  intrinsic {step.cumulative_intrinsic:+.2f}",
    )
    _row(text, "ε", f"{step.epsilon:.3f}")
    _row(text, "Stage", f"{message['stage']} / {world.stages}  ×{message['multiplier']:.2f}")
    if step.time_of_day is not None:
        progress = step.interaction_progress or 0.0
        _row(text, "Time", (f"{step.time_of_day:02d}:00", "bold"), f"  interaction {progress:.0%}")
    if step.index == episode.last_index:
        _row(text, "Outcome", _outcome(message["outcome"]))
    _row(text, "Source", world.source)
    if world.pack:
        _row(text, "Pack", world.pack)
    return text


def info_line(world: World, episode: Episode, step: Step, width: int | None = None) -> Text:
    """The Episode panel in one line, for a terminal too narrow for the panel: the same
    figures, in ``width`` cells: shorter labels when they must, and then no position
    (the town shows it)."""
    tiers = ((False, True), (True, True), (True, False))
    return _fitted(width, (_info_line(world, episode, step, *tier) for tier in tiers))


def _info_line(world: World, episode: Episode, step: Step, short: bool, where: bool) -> Text:
    message = episode.message
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Ep " if short else "Episode ", "bold").append(f"{episode.number}", "bold")
    text.append(f" · {'' if short else 'step '}{step.index + 1}/{episode.length}")
    reward = step.cumulative_reward
    text.append(" · " if short else " · reward ").append(f"{reward:+.2f}", _sign_style(reward))
    text.append(f" · ε {step.epsilon:.2f} · stage {message['stage']}/{world.stages}")
    if step.time_of_day is not None:
        text.append(" · ").append(f"{step.time_of_day:02d}:00", "bold")
    if step.index == episode.last_index:
        text.append(" · ").append(*_outcome(message["outcome"]))
    if where:
        text.append(f" · ({step.position[0]}, {step.position[1]})", "dim")
    gap = " " if short else "  "
    text.append("".join(_standing_on(episode, step, gap=gap if where else " · ")), "dim")
    return text


def _standing_on(episode: Episode, step: Step, gap: str = "  ") -> tuple[str, ...]:
    """``  on Bed`` (after ``gap``) when the agent stands on an affordance."""
    names = [name for name, cell in episode.affordances.items() if cell == step.position]
    return (f"{gap}on {', '.join(names)}",) if names else ()


def _sign_style(value: float) -> str:
    return "green" if value > 0 else "red" if value < 0 else ""


def _outcome(outcome: str) -> tuple[str, str]:
    """The outcome, coloured: dying is bad news, retiring is the goal."""
    styles = {"died": "bold red", "retired": "bold green", "cut_off": "bold yellow"}
    return outcome.replace("_", " "), styles.get(outcome, "bold")


def trend_text(
    survivals: Sequence[int],
    max_steps: int | None,
    evaluation: tuple[int, float] | None = None,
    width: int | None = None,
) -> Text:
    """The chart's caption: what its marks are, the latest and best survival, and the
    latest greedy evaluation (collapsed to this line, it is the whole chart). In
    ``width`` cells the figures stay whole: the labels and gaps shorten first."""
    if not survivals:
        note = "survival: waiting for the first episode"
        return Text(note, "dim", no_wrap=True, overflow="ellipsis")
    lines = (_trend_line(survivals, max_steps, evaluation, short) for short in (False, True))
    return _fitted(width, lines)


def _trend_line(
    survivals: Sequence[int],
    max_steps: int | None,
    evaluation: tuple[int, float] | None,
    short: bool,
) -> Text:
    gap = " " if short else "  "
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("█", "green").append("" if short else " survival", "dim")
    text.append(f"{gap}latest ").append(str(survivals[-1]), "bold")
    text.append(f"{gap}best ").append(str(max(survivals)), "bold")
    if max_steps:
        text.append(f"/{max_steps}" if short else f" of {max_steps}", "dim")
    if evaluation is not None:
        text.append(f"{gap} ◆", "bold bright_magenta")
        text.append(" eval" if short else " greedy eval", "dim")
        text.append(f" {evaluation[1]:.1f}", "bold").append(f" (ep {evaluation[0]})", "dim")
    return text


def stats_text(
    stats: dict[str, Any] | None,
    training: bool = False,
    ended: bool = False,
    width: int | None = None,
) -> Text:
    """The trainer's latest figures; before any, what to expect: a ``training`` source
    sends them every few seconds (unless it has ``ended``), a checkpoint or a replay never.

    In ``width`` cells the figures keep every digit: ε and the stage go first (the
    Episode panel shows the watched episode's), then the labels shorten.
    """
    if stats is None:
        if training and not ended:
            note = "training figures: the first come within seconds"
        elif training:
            note = "no training figures came before the stream ended"
        else:
            note = "no training figures from this source"
        return Text(note, "dim", no_wrap=True, overflow="ellipsis")
    tiers = [(short, extras) for short in (False, True) for extras in (2, 1, 0)]
    tiers.append((True, -1))  # last resort: no "training" heading either
    return _fitted(width, (_stats_line(stats, short, extras) for short, extras in tiers))


def _stats_line(stats: dict[str, Any], short: bool, extras: int) -> Text:
    """The figures with ``short`` labels and ``extras`` of stage and ε (1: the stage;
    -1: not even the heading)."""
    heading = "training  " if extras >= 0 else ""
    text = Text(heading, "bold", no_wrap=True, overflow="ellipsis")
    rate = stats["agent_steps_per_second"]
    loss, recent = stats["loss"], stats["recent_survival"]
    fields = [
        f"{stats['episodes']:,} {'ep' if short else 'episodes'}",
        # no rate yet (or none measured over the last window) reads better than 0
        f"{rate:,.0f} agent-steps/s" if rate else "… agent-steps/s",
        "loss " + ("–" if loss is None else f"{loss:.4f}"),
        ("survival " if short else "recent survival ")
        + ("–" if recent is None else f"{recent:.1f}"),
    ]
    if extras == 2:
        fields.append(f"ε {stats['epsilon']:.3f}")
    if extras >= 1:
        fields.append(f"stage {stats['stage']}")
    return text.append(" · ".join(fields))


def _fitted(width: int | None, candidates: Iterable[Text]) -> Text:
    """The first of ``candidates`` (fullest first) no wider than ``width`` cells; when
    none fits, the last, which Rich cuts with an ellipsis."""
    text = Text()
    for text in candidates:
        if width is None or text.cell_len <= width:
            break
    return text


@dataclass(frozen=True)
class StatusLine:
    """Everything the status line shows, gathered by the app once per redraw."""

    connection: str
    detail: str
    playing: bool
    speed: float
    queued: int
    stream_dropped: int
    skipped: int
    finished: bool
    end_reason: str | None = None
    showing: bool = False
    """Whether an episode is on screen."""
    at_end: bool = False
    """Whether its last step is shown with nothing queued: playback has caught up."""
    retrying: bool = False
    """Whether the connection was lost before (so connecting again is a retry)."""
    notice: str = ""
    """Why the last key did nothing, until the next key."""


def viewer_state(status: StatusLine, short: bool = False) -> tuple[str, str]:
    """The one thing the viewer is doing, as ``(label, style)``: connecting, waiting for
    the first episode, playing, paused, stream ended, or disconnected (and retrying).
    ``short`` says "ended" for "stream ended", for a narrow terminal."""
    if status.connection == "lost":
        retry = "" if status.finished else ", retrying"
        return f"✖ disconnected{retry}: {status.detail}", "bold red"
    if status.connection == "connecting":
        return ("◌ reconnecting…" if status.retrying else "◌ connecting…"), "yellow"
    reason = f" ({status.end_reason})" if status.end_reason else ""
    stream_ended = "ended" if short else "stream ended"
    if not status.showing:
        if status.finished:
            return f"■ {stream_ended} before any episode{reason}", "bold magenta"
        return "◌ waiting for the first episode…", "yellow"
    if status.finished and status.at_end:
        more = "" if short else ": no more episodes"
        return f"■ stream ended{reason}{more}", "bold magenta"
    ended = f" · {stream_ended}{reason}" if status.finished else ""  # steps are left to play
    if status.playing:
        return f"▶ playing{ended}", "bold green"
    return f"❚❚ paused{ended}", "bold yellow"


def status_text(status: StatusLine, width: int | None = None) -> Text:
    """The viewer's state, speed, queue and drops, then why the last key did nothing.

    In ``width`` cells the figures keep every digit: the split of the drops goes first,
    then the separators narrow, then the state shortens.
    """
    tiers = [
        (SEPARATOR, True, False),
        (SEPARATOR, False, False),
        (NARROW_SEPARATOR, False, False),
        (NARROW_SEPARATOR, False, True),
    ]
    return _fitted(width, (_status_line(status, *tier) for tier in tiers))


def _status_line(status: StatusLine, separator: tuple[str, str], split: bool, short: bool) -> Text:
    text = Text.assemble(viewer_state(status, short), no_wrap=True, overflow="ellipsis")
    text.append(*separator).append(f"{status.speed:g} steps/s")
    text.append(*separator).append(f"{status.queued:,} queued")
    dropped = status.stream_dropped + status.skipped
    text.append(*separator).append(f"dropped {dropped:,}", "bold red" if dropped else "")
    if dropped and split:
        text.append(f" (stream {status.stream_dropped:,}, skipped {status.skipped:,})", "dim")
    if status.notice:
        text.append(*separator).append(status.notice, "bold yellow")
    return text

"""The ``hamlet`` command line: every command, its flags and their help."""

from __future__ import annotations

import argparse
from importlib.metadata import version

from hamlet.compiler import DEFAULT_MAX_MEMORY
from hamlet.compiler.memory import format_bytes
from hamlet.schemas import options

from ..experiments.curves import METRICS, X_AXES
from ..experiments.stats import DEFAULT_REPS
from ..export import FORMATS
from ..model.device import DEVICE_HELP
from ..runs.plan import LEARNERS
from . import commands
from .commands import DEFAULT_FPS, DEFAULT_PORT, DEFAULT_WEB_PORT, SPEED_HELP


def _picture_options(sub: argparse.ArgumentParser, what: str) -> None:
    """--gif, --mp4 and --fps: an episode as an animation instead of the viewer."""
    group = sub.add_argument_group("pictures to keep (the pictures extra; MP4: the video extra)")
    group.add_argument("--gif", metavar="FILE", help=f"{what} as an animated GIF")
    group.add_argument("--mp4", metavar="FILE", help=f"{what} as an MP4 video (H.264)")
    group.add_argument(
        "--fps",
        type=options.frame_rate,
        help=f"frames (steps) per second (default {DEFAULT_FPS:g})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hamlet",
        description="HAMLET: train brains in a small town, watch them learn, use them anywhere.",
        epilog="Compile and inspect brain specs with `hamletc`.",
    )
    parser.add_argument("--version", action="version", version=f"hamlet {version('hamlet')}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub = subcommands.add_parser(
        "packs",
        help="list the shipped config packs and their worlds",
        description="List the config packs that ship with HAMLET, with their world sizes.",
    )
    sub.add_argument("--paths", action="store_true", help="also print where each pack lives")
    sub.set_defaults(run=commands.packs_command, parser=sub)

    mismatch_help = (
        "load a checkpoint whose spec does not match its hash (E206) or whose weights do not "
        "match their digest (E208), with a warning"
    )
    sub = subcommands.add_parser(
        "inspect",
        help="show what a checkpoint holds",
        description="Show a checkpoint's format, architecture, spec hash, parameter count, "
        "metadata, observation layout and action names.",
    )
    sub.add_argument(
        "path", metavar="PATH",
        help="a checkpoint (.pt) or safetensors file, or a run directory or its checkpoints/ "
        "folder (its newest model)",
    )  # fmt: skip
    sub.add_argument("--json", action="store_true", help="print it as JSON")
    sub.add_argument("--allow-hash-mismatch", action="store_true", help=mismatch_help)
    sub.set_defaults(run=commands.inspect_command, parser=sub)

    sub = subcommands.add_parser(
        "export",
        help="export a checkpoint to ONNX, TorchScript, safetensors or Python",
        description="Export a checkpoint for use outside HAMLET. With --verify, load the "
        "export back and check that it computes the same Q-values and hidden states "
        "(batch 1 and 7; for recurrent brains a 64-step rollout with a reset).",
    )
    sub.add_argument(
        "checkpoint", metavar="CKPT",
        help="a checkpoint HAMLET can load, or a run directory or its checkpoints/ folder "
        "(its newest model)",
    )  # fmt: skip
    sub.add_argument("out", metavar="OUT", help="output file (a folder for --format python)")
    sub.add_argument("--format", choices=FORMATS, default="onnx", help="default: onnx")
    sub.add_argument("--verify", action="store_true", help="check the export against the model")
    sub.add_argument("--allow-hash-mismatch", action="store_true", help=mismatch_help)
    sub.set_defaults(run=commands.export_command, parser=sub)

    sub = subcommands.add_parser(
        "migrate",
        help="write inference checkpoints beside training checkpoints",
        description="For each training checkpoint (checkpoint_epNNNNNN.pt, HAMLET's or the "
        "original system's) in PATH, write the inference checkpoint model_epNNNNNN.pt "
        "beside it.",
    )
    sub.add_argument(
        "path", metavar="PATH", help="a training checkpoint, a folder of them, or a run directory"
    )
    sub.add_argument(
        "--force", action="store_true", help="replace inference checkpoints that exist already"
    )
    sub.set_defaults(run=commands.migrate_command, parser=sub)

    sub = subcommands.add_parser(
        "run",
        help="train a config pack's brain, with live progress",
        description="Train the brain of a config pack in its world. Creates a run directory "
        "runs/<pack>/<timestamp>/ with a copy of the config, a log, metrics.sqlite and "
        "checkpoints; Ctrl-C saves a final checkpoint. Defaults come from training.yaml.",
    )
    sub.add_argument("pack", nargs="?", metavar="PACK", help="a config pack folder or name")
    sub.add_argument("--episodes", type=options.positive_int, help="total episodes of the run")
    sub.add_argument("--seed", type=options.seed, help="seed of every random choice")
    sub.add_argument(
        "--agents",
        type=options.positive_int,
        help="agents sharing one learner (default: run.agents of training.yaml; resumed: "
        "the run's)",
    )
    sub.add_argument("--device", default="cpu", help=DEVICE_HELP)
    sub.add_argument(
        "--learner", choices=LEARNERS, default="auto",
        help="where gradient steps run: process, a second process beside the agents (both "
        "learn and act at once; CPU only); inline, the same process; auto (default), process "
        "on a CPU with 2 cores or more. The learning is the same (identical at one torch "
        "thread)",
    )  # fmt: skip
    sub.add_argument("--out", default="runs", help="where run directories go (default: runs)")
    sub.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its checkpoint")
    sub.add_argument(
        "--checkpoint-every", type=options.positive_int, metavar="K",
        help="save a checkpoint every K episodes, over all agents (default: the pack's "
        "run.checkpoint_every, 1000 in the shipped packs); the run also saves when it ends",
    )  # fmt: skip
    sub.add_argument(
        "--minutes", type=options.minutes,
        help="stop once the run has trained this long, in minutes over all its sessions",
    )  # fmt: skip
    sub.add_argument(
        "--agent-steps", type=options.positive_int, metavar="N",
        help="stop once the agents have taken N steps in all (reproducible on any machine)",
    )  # fmt: skip
    sub.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="change a setting of the pack's files for this run (repeat), e.g. --set "
        "learning.learning_rate=3e-4 --set exploration.epsilon.fraction=0.5; kept in the run's "
        "config and metadata",
    )  # fmt: skip
    sub.add_argument(
        "--max-memory", metavar="GIB", type=options.gibibytes, default=DEFAULT_MAX_MEMORY,
        help="refuse (E134) a brain or an agent count needing more memory than this, estimated "
        f"before anything is allocated (default {format_bytes(DEFAULT_MAX_MEMORY)})",
    )  # fmt: skip
    sub.add_argument("--quiet", action="store_true", help="no progress display")
    sub.add_argument(
        "--json", action="store_true",
        help="progress as JSON lines on stdout (every 5 s: rates, each phase's share of the "
        "time, survival, loss), then the result as a last line",
    )  # fmt: skip
    live = sub.add_argument_group("watching it learn")
    live.add_argument(
        "--watch", action="store_true", help="train in the background and watch in this terminal"
    )
    live.add_argument(
        "--serve",
        action="store_true",
        help="stream episodes for `hamlet watch` in other terminals (WebSocket on 127.0.0.1)",
    )
    live.add_argument(
        "--port",
        type=options.port,
        help=f"port to serve on (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    live.add_argument(
        "--web", action="store_true",
        help="with --watch: the viewer as a web page on 127.0.0.1 (--port, default "
        f"{DEFAULT_WEB_PORT}) instead of this terminal; needs the web extra",
    )  # fmt: skip
    live.add_argument("--speed", type=options.speed, default=10.0, help=SPEED_HELP)
    sub.set_defaults(run=commands.run_command, parser=sub)

    sub = subcommands.add_parser(
        "sweep",
        help="train packs x settings x seeds, on local workers or a Ray cluster",
        description="Train every combination of packs, --set values and seeds as ordinary "
        "run directories under sweeps/<name>/, beside a manifest.json. Run the same "
        "command again to resume: finished runs are skipped, interrupted ones go on from "
        "their checkpoints. Compare the groups with hamlet compare sweeps/<name>.",
    )
    sub.add_argument(
        "sources", nargs="+", metavar="PACK|SWEEP.yaml",
        help="config packs (folders or names), or one sweep.yaml (hamletc schema sweep)",
    )  # fmt: skip
    seeds = sub.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seeds", type=options.positive_int, metavar="N", help="seeds 0 to N-1 (default 1)"
    )
    seeds.add_argument("--seed-list", type=options.seed_list, metavar="S,S,...", help="these seeds")
    sub.add_argument(
        "--set", action="append", default=[], metavar="KEY=V[,V...]",
        help="a setting for every run, or several values to try (every combination is run), "
        "e.g. --set learning.learning_rate=1e-4,3e-4",
    )  # fmt: skip
    budget = sub.add_argument_group("each run's budget (give at least one)")
    budget.add_argument(
        "--agent-steps",
        type=options.positive_int,
        metavar="N",
        help="agent-steps (the same on any machine)",
    )
    budget.add_argument("--episodes", type=options.positive_int, metavar="N", help="episodes")
    budget.add_argument("--minutes", type=options.minutes, metavar="M", help="minutes of training")
    sub.add_argument(
        "--agents",
        type=options.positive_int,
        metavar="N",
        help="agents per run (default: each pack's run.agents)",
    )
    sub.add_argument(
        "--workers", type=options.positive_int, metavar="W",
        help="runs at once (default: the number of cores; Ray: its CPUs)",
    )  # fmt: skip
    sub.add_argument("--backend", choices=("local", "ray"), help="where runs go (default local)")
    sub.add_argument(
        "--address", metavar="ADDR", help="with --backend ray: the cluster (default: start one)"
    )
    sub.add_argument("--name", help="the sweep's folder (default: from its packs and a hash)")
    sub.add_argument("--out", default="sweeps", help="where sweeps go (default: sweeps)")
    sub.add_argument("--device", help=DEVICE_HELP)
    sub.add_argument(
        "--max-memory", metavar="GIB", type=options.gibibytes, default=DEFAULT_MAX_MEMORY,
        help=f"as for hamlet run (default {format_bytes(DEFAULT_MAX_MEMORY)})",
    )  # fmt: skip
    sub.add_argument("--quiet", action="store_true", help="no progress line")
    sub.set_defaults(run=commands.sweep_command, parser=sub)

    sub = subcommands.add_parser(
        "watch",
        help="watch a training run live, or a checkpoint play",
        description="Open the viewer on a stream (hamlet run PACK --serve), or with "
        "--checkpoint let a saved model play episodes in its world (no training). "
        "Keys: space pause/play, + and - speed, s single step, n next episode, q quit.",
    )
    sub.add_argument(
        "url", nargs="?", default=f"ws://127.0.0.1:{DEFAULT_PORT}", metavar="URL",
        help=f"the stream to watch (default ws://127.0.0.1:{DEFAULT_PORT})",
    )  # fmt: skip
    sub.add_argument(
        "--checkpoint", metavar="MODEL",
        help="play this checkpoint instead (or a run directory: its newest model)",
    )  # fmt: skip
    sub.add_argument("--pack", help="with --checkpoint: the world (default: the checkpoint's)")
    sub.add_argument("--stage", type=int, help="with --checkpoint: curriculum stage (default last)")
    sub.add_argument(
        "--epsilon",
        type=options.probability,
        default=0.0,
        help="with --checkpoint (default 0: greedy)",
    )
    sub.add_argument(
        "--episodes", type=options.positive_int, help="with --checkpoint (default: no end)"
    )
    sub.add_argument("--seed", type=options.seed, default=0, help="with --checkpoint (default 0)")
    sub.add_argument("--speed", type=options.speed, default=10.0, help=SPEED_HELP)
    web = sub.add_argument_group("in a browser (the web extra)")
    web.add_argument(
        "--web", action="store_true",
        help="serve this viewer as a web page on 127.0.0.1 instead of this terminal",
    )  # fmt: skip
    web.add_argument(
        "--port",
        type=options.port,
        help=f"with --web: the page's port (default {DEFAULT_WEB_PORT})",
    )
    _picture_options(sub, "with --checkpoint: play one fresh episode and write it")
    sub.set_defaults(run=commands.watch_command, parser=sub)

    sub = subcommands.add_parser(
        "replay",
        help="list and play a run's recorded episodes",
        description="Play the episodes a run recorded (the pack's recording section picks "
        "them: periodic, around curriculum changes, best and worst, first of each stage) "
        "in the viewer, or list them.",
    )
    sub.add_argument("run_dir", metavar="RUN_DIR", help="a run directory of hamlet run")
    sub.add_argument("--episode", type=int, metavar="N", help="play only episode N")
    sub.add_argument("--list", action="store_true", help="list the recordings and exit")
    sub.add_argument("--speed", type=options.speed, default=10.0, help=SPEED_HELP)
    _picture_options(sub, "with --episode: write that episode")
    sub.set_defaults(run=commands.replay_command, parser=sub)

    sub = subcommands.add_parser(
        "eval",
        help="greedy survival of a checkpoint at a fixed difficulty, with baselines",
        description="Play N episodes with the checkpoint's greedy policy at a fixed "
        "difficulty, beside a hand-written heuristic (which sees the true world state), a "
        "random valid-action policy and always-WAIT.",
    )
    sub.add_argument(
        "model",
        metavar="MODEL",
        help="a checkpoint, or a run directory (its newest model), or a folder of runs "
        "(the newest run's newest model), e.g. runs/L1_full_observability",
    )
    sub.add_argument("--pack", help="the pack whose world to use (default: the checkpoint's)")
    sub.add_argument("--episodes", type=options.positive_int, default=100, help="default: 100")
    difficulty = sub.add_mutually_exclusive_group()
    difficulty.add_argument("--stage", type=int, help="a curriculum stage of the pack (1-based)")
    difficulty.add_argument("--multiplier", type=float, help="depletion multiplier (default 1.0)")
    sub.add_argument("--seed", type=options.seed, default=0, help="default: 0")
    sub.add_argument("--device", default="cpu", help=DEVICE_HELP)
    sub.add_argument(
        "--new-layout",
        action="store_true",
        help="place the affordances anew (default: where the model was trained, when the "
        "pack's layout is fixed and the checkpoint records it)",
    )
    sub.add_argument("--json", action="store_true", help="print the scores as JSON")
    sub.set_defaults(run=commands.eval_command, parser=sub)

    curve_options = argparse.ArgumentParser(add_help=False)
    curve_options.add_argument(
        "--plot", metavar="FILE",
        help="draw the learning curves into FILE (.png or .svg) instead of the terminal "
        "(needs pip install 'hamlet[plot]')",
    )  # fmt: skip
    curve_options.add_argument(
        "--x", choices=X_AXES, default="agent_steps",
        help="the curves' x axis (default agent_steps)",
    )  # fmt: skip
    curve_options.add_argument(
        "--metric", action="append", choices=METRICS, metavar="METRIC",
        help=f"a panel of curves, repeat for more: {', '.join(METRICS)} (default "
        "eval_survival: the greedy evaluations' mean survival)",
    )  # fmt: skip
    sub = subcommands.add_parser(
        "compare",
        parents=[curve_options],
        help="did it help? runs grouped by what they ran: IQM over seeds, confidence "
        "intervals, learning curves",
        description="Group runs by pack and config snapshot (everything but the seed: a "
        "pack edited between runs counts as another group, and runs that came to the same "
        "config by --set and by the pack pool their seeds); per group the "
        "IQM over seeds of the final evaluation's mean survival with its 95% stratified "
        "bootstrap interval, per pair of groups the probability of improvement (Agarwal et "
        "al. 2021), then each group's learning curves.",
    )
    sub.add_argument(
        "runs", nargs="+", metavar="RUN_OR_SWEEP",
        help="run directories, folders of runs (runs/<pack>) or sweep folders (with "
        "manifest.json)",
    )  # fmt: skip
    sub.add_argument("--json", action="store_true", help="print the comparison as JSON")
    sub.add_argument(
        "--reps", type=options.positive_int, default=DEFAULT_REPS,
        help=f"bootstrap resamples per interval (default {DEFAULT_REPS})",
    )  # fmt: skip
    sub.set_defaults(run=commands.compare_command, parser=sub)

    sub = subcommands.add_parser(
        "plot",
        parents=[curve_options],
        help="a run's learning curves, in the terminal or into a PNG/SVG file",
        description="Draw one run's learning curves (default: its greedy evaluations' mean "
        "survival) against agent steps, episodes or training time, with its curriculum's "
        "stage changes.",
    )
    sub.add_argument("run_dir", metavar="RUN_DIR", help="a run directory of hamlet run")
    sub.set_defaults(run=commands.plot_command, parser=sub)
    return parser

"""What each ``hamlet`` command does with its parsed arguments: check the flags that go
together, call one library function, print its result. Returns the exit status.

Imports of the library happen inside each command, so that ``hamlet --help`` and a
usage error stay fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from urllib.parse import urlsplit

from hamlet.runtime.runs import newest_model
from hamlet.schemas.errors import UsageError

DEFAULT_PORT = 8765
"""Where ``hamlet run --serve`` streams and ``hamlet watch`` looks, unless told."""
DEFAULT_WEB_PORT = 8000
"""Where ``--web`` serves the viewer's page, unless told (viewer/web.py)."""
DEFAULT_FPS = 10.0
"""Frames per second of ``--gif`` and ``--mp4``: one step a frame, the viewer's speed."""
SPEED_HELP = "viewer steps per second to start with (default 10; + and - change it)"


def packs_command(args: argparse.Namespace) -> int:
    from ..world.packs import format_packs

    print(format_packs(paths=args.paths))
    return 0


def inspect_command(args: argparse.Namespace) -> int:
    from ..model import HamletModel
    from ..model.describe import describe_model, format_description

    path = newest_model(Path(args.path))
    model = HamletModel.load(path, allow_hash_mismatch=args.allow_hash_mismatch)
    info = describe_model(model, path)
    print(json.dumps(info, indent=2, default=str) if args.json else format_description(info))
    return 0


def export_command(args: argparse.Namespace) -> int:
    from ..model import HamletModel

    path = newest_model(Path(args.checkpoint))
    model = HamletModel.load(path, allow_hash_mismatch=args.allow_hash_mismatch)
    exported = model.export(args.out, args.format, verify=args.verify)
    print(f"wrote {exported.path} ({args.format})")
    if exported.verification is not None:
        print(exported.verification)
    return 0


def migrate_command(args: argparse.Namespace) -> int:
    from hamlet.compiler.cli import print_diagnostics

    from ..model.migrate import Kept, Migrated, migrate

    path = Path(args.path)
    if (path / "checkpoints").is_dir():  # a run directory: its checkpoints
        path = path / "checkpoints"
    failed = handled = 0
    for outcome in migrate(path, force=args.force):
        if isinstance(outcome, Migrated):
            handled += 1
            again = ", replacing the one there" if outcome.replaced else ""
            print(f"wrote {outcome.target} (from {outcome.source.name}{again})")
        elif isinstance(outcome, Kept):
            handled += 1
            print(f"kept {outcome.target}, which exists already (--force replaces it)")
        else:
            failed += 1
            print_diagnostics(outcome.errors)
    if handled == 0 and failed == 0:
        print(f"no training checkpoints (checkpoint_ep*.pt) in {args.path}")
    return 1 if failed else 0


def run_command(args: argparse.Namespace) -> int:
    from ..runs import RunOptions

    if args.pack is None and args.resume is None:
        args.parser.error("give a config pack (or --resume RUN_DIR)")
    if args.watch and args.serve:
        args.parser.error("--watch already serves its own viewer: give one of --watch, --serve")
    if args.port is not None and not (args.watch or args.serve):
        args.parser.error("--port goes with --serve (or --watch)")
    if args.web and not args.watch:
        args.parser.error("--web goes with --watch: hamlet run PACK --watch --web")
    if args.json and (args.watch or args.quiet):
        args.parser.error("--json prints the progress: it goes with neither --watch nor --quiet")
    options = RunOptions(
        pack=args.pack,
        episodes=args.episodes,
        seed=args.seed,
        agents=args.agents,
        device=args.device,
        learner=args.learner,
        out=args.out,
        resume=args.resume,
        checkpoint_every=args.checkpoint_every,
        minutes=args.minutes,
        agent_steps=args.agent_steps,
        overrides=args.set,
        max_memory=args.max_memory,
    )
    if args.watch:
        from ..viewer.watch import run_watched

        if args.web:  # --port is the page's; the stream behind it takes any free port
            web = args.port if args.port is not None else DEFAULT_WEB_PORT
            result = run_watched(options, port=0, speed=args.speed, web=web)
        else:
            result = run_watched(options, port=args.port or 0, speed=args.speed)
    else:
        from ..runs import run_in_terminal

        port = args.port if args.port is not None else DEFAULT_PORT
        result = run_in_terminal(
            options, quiet=args.quiet, serve_port=port if args.serve else None, as_json=args.json
        )
    print(json.dumps(result.to_json()) if args.json else result)
    return 130 if result.interrupted else 0


def eval_command(args: argparse.Namespace) -> int:
    from ..runs import evaluate_checkpoint

    evaluation = evaluate_checkpoint(
        args.model, pack=args.pack, stage=args.stage, multiplier=args.multiplier,
        episodes=args.episodes, seed=args.seed, device=args.device, new_layout=args.new_layout,
    )  # fmt: skip
    print(json.dumps(evaluation.to_json(), indent=2) if args.json else evaluation)
    return 0


def _pictures(args: argparse.Namespace) -> bool:
    """Whether the command writes pictures (--gif, --mp4) instead of opening the viewer."""
    pictures = args.gif is not None or args.mp4 is not None
    if args.fps is not None and not pictures:
        args.parser.error("--fps goes with --gif or --mp4")
    args.fps = args.fps or DEFAULT_FPS
    return pictures


def watch_command(args: argparse.Namespace) -> int:
    from ..viewer.watch import record_checkpoint, watch_checkpoint, watch_stream

    if args.checkpoint is None:
        _check_stream_url(args.url)
    if args.web:
        return _watch_web(args)
    if args.port is not None:
        args.parser.error("--port goes with --web")
    if args.checkpoint is None:
        used = [
            f"--{n}"
            for n in ("pack", "stage", "episodes", "gif", "mp4", "fps")
            if getattr(args, n) is not None
        ]
        if used:
            verb = "go" if len(used) > 1 else "goes"
            args.parser.error(f"{', '.join(used)} {verb} with --checkpoint")
        return watch_stream(args.url, speed=args.speed)
    if _pictures(args):
        if args.episodes is not None:
            args.parser.error("--gif and --mp4 record one episode: leave out --episodes")
        return record_checkpoint(
            newest_model(Path(args.checkpoint)), pack=args.pack, stage=args.stage,
            epsilon=args.epsilon, seed=args.seed, gif=args.gif, mp4=args.mp4, fps=args.fps,
        )  # fmt: skip
    return watch_checkpoint(
        newest_model(Path(args.checkpoint)), pack=args.pack, stage=args.stage,
        epsilon=args.epsilon, seed=args.seed, episodes=args.episodes, speed=args.speed,
    )  # fmt: skip


def _check_stream_url(url: str) -> None:
    """E300 for a URL the viewer could never connect to, before the viewer opens (it
    would retry it for ever): a model or run given where --checkpoint belongs, an
    http:// address, a typo."""
    try:
        parts = urlsplit(url)
        if parts.scheme in ("ws", "wss") and parts.hostname and (parts.port or 1) > 0:
            return
    except ValueError:  # a port that is not a number or past 65535, a broken [IPv6]
        pass
    if url.strip() and Path(url).exists():
        expected = f"a stream's ws:// address; to let a model play: hamlet watch --checkpoint {url}"
    else:
        expected = (
            f"a stream's address, as hamlet run --serve prints it: ws://127.0.0.1:{DEFAULT_PORT}"
        )
    raise UsageError.option("URL", repr(url), expected)


def _watch_web(args: argparse.Namespace) -> int:
    """``hamlet watch ... --web``: the same ``hamlet watch``, as a web page."""
    from ..viewer.web import serve_viewer

    if args.gif is not None or args.mp4 is not None:
        args.parser.error("--web shows the viewer; --gif and --mp4 write files: give one")
    if args.checkpoint is None:
        watch = [args.url]
    else:
        watch = ["--checkpoint", str(Path(newest_model(Path(args.checkpoint))).resolve())]
        watch += ["--epsilon", f"{args.epsilon:g}", "--seed", str(args.seed)]
        for flag in ("pack", "stage", "episodes"):
            if getattr(args, flag) is not None:
                watch += [f"--{flag}", str(getattr(args, flag))]
    watch += ["--speed", f"{args.speed:g}"]
    port = args.port if args.port is not None else DEFAULT_WEB_PORT
    serve_viewer(watch, port=port, title="HAMLET viewer")
    return 0


def replay_command(args: argparse.Namespace) -> int:
    from ..viewer.watch import record_replay, replay

    if _pictures(args):
        if args.episode is None or args.list:
            args.parser.error(
                "--gif and --mp4 draw one recorded episode: give --episode N "
                f"(hamlet replay {args.run_dir} --list shows them)"
            )
        return record_replay(args.run_dir, args.episode, gif=args.gif, mp4=args.mp4, fps=args.fps)
    return replay(args.run_dir, episode=args.episode, list_only=args.list, speed=args.speed)


def compare_command(args: argparse.Namespace) -> int:
    from ..experiments.compare import compare_command

    print(
        compare_command(
            args.runs, as_json=args.json, plot=args.plot, x=args.x, metrics=args.metric,
            reps=args.reps,
        )
    )  # fmt: skip
    return 0


def plot_command(args: argparse.Namespace) -> int:
    from ..experiments.plots import plot_run

    print(plot_run(args.run_dir, plot=args.plot, x=args.x, metrics=args.metric))
    return 0


def sweep_command(args: argparse.Namespace) -> int:
    from ..experiments.sweep import run_sweep, sweep_from_command_line

    spec = sweep_from_command_line(
        args.sources, seeds=args.seeds, seed_list=args.seed_list, sets=args.set,
        episodes=args.episodes, agent_steps=args.agent_steps, minutes=args.minutes,
        agents=args.agents, workers=args.workers, backend=args.backend, address=args.address,
        name=args.name, device=args.device,
    )  # fmt: skip
    result = run_sweep(spec, out=args.out, max_memory=args.max_memory, quiet=args.quiet)
    print(result)
    return 130 if result.interrupted else 0

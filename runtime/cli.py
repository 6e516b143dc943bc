"""``hamlet``: work with config packs, trained models and runs.

Exit codes: 0 success, 1 a problem with the input (explained on stderr), 2 a
usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib.metadata import version

from hamlet.compiler.cli import run_cli
from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import load_pack, observation_layout

from .export import FORMATS


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_parser(), argv)


def _packs(args: argparse.Namespace) -> int:
    rows = [("pack", "grid", "view", "temporal", "affordances", "obs", "actions")]
    for name in PACK_NAMES:
        pack = load_pack(pack_dir(name))
        env = pack.training.environment
        layout = observation_layout(pack)
        w = 2 * env.vision_range + 1
        view = "full" if env.observability == "full" else f"{w}x{w} window"
        rows.append(
            (
                name,
                f"{env.grid_size}x{env.grid_size}",
                view,
                "on" if env.temporal_mechanics else "off",
                str(len(pack.deployed_affordances)),
                str(layout.obs_dim),
                str(layout.num_actions),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if args.paths:
        print()
        for name in PACK_NAMES:
            print(f"{name}: {pack_dir(name)}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from .describe import describe_model, format_description
    from .model import HamletModel

    model = HamletModel.load(args.path, allow_hash_mismatch=args.allow_hash_mismatch)
    info = describe_model(model, args.path)
    print(json.dumps(info, indent=2, default=str) if args.json else format_description(info))
    return 0


def _export(args: argparse.Namespace) -> int:
    from .model import HamletModel

    model = HamletModel.load(args.checkpoint, allow_hash_mismatch=args.allow_hash_mismatch)
    exported = model.export(args.out, args.format, verify=args.verify)
    print(f"wrote {exported.path} ({args.format})")
    if exported.verification is not None:
        print(exported.verification)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from hamlet.compiler.cli import print_diagnostics

    from .migrate import Migrated, migrate

    failed = done = 0
    for outcome in migrate(args.path):
        if isinstance(outcome, Migrated):
            done += 1
            print(f"wrote {outcome.target} (from {outcome.source.name})")
        else:
            failed += 1
            print_diagnostics(outcome.errors)
    if done == 0 and failed == 0:
        print(f"no training checkpoints (checkpoint_ep*.pt) in {args.path}")
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hamlet",
        description="HAMLET: train brains in a small town, watch them learn, use them anywhere.",
        epilog="Compile and inspect brain specs with `hamletc`.",
    )
    parser.add_argument("--version", action="version", version=f"hamlet {version('hamlet')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub = commands.add_parser(
        "packs",
        help="list the shipped config packs and their worlds",
        description="List the config packs that ship with HAMLET, with their world sizes.",
    )
    sub.add_argument("--paths", action="store_true", help="also print where each pack lives")
    sub.set_defaults(run=_packs, parser=sub)

    mismatch_help = "load a checkpoint whose spec does not match its hash (with a warning)"
    sub = commands.add_parser(
        "inspect",
        help="show what a checkpoint holds",
        description="Show a checkpoint's format, architecture, spec hash, parameter count, "
        "metadata, observation layout and action names.",
    )
    sub.add_argument("path", metavar="PATH", help="a checkpoint (.pt) or safetensors file")
    sub.add_argument("--json", action="store_true", help="print it as JSON")
    sub.add_argument("--allow-hash-mismatch", action="store_true", help=mismatch_help)
    sub.set_defaults(run=_inspect, parser=sub)

    sub = commands.add_parser(
        "export",
        help="export a checkpoint to ONNX, TorchScript, safetensors or Python",
        description="Export a checkpoint for use outside HAMLET. With --verify, load the "
        "export back and check that it computes the same Q-values and hidden states "
        "(batch 1 and 7; for recurrent brains a 64-step rollout with a reset).",
    )
    sub.add_argument("checkpoint", metavar="CKPT", help="a checkpoint HAMLET can load")
    sub.add_argument("out", metavar="OUT", help="output file (a folder for --format python)")
    sub.add_argument("--format", choices=FORMATS, default="onnx", help="default: onnx")
    sub.add_argument("--verify", action="store_true", help="check the export against the model")
    sub.add_argument("--allow-hash-mismatch", action="store_true", help=mismatch_help)
    sub.set_defaults(run=_export, parser=sub)

    sub = commands.add_parser(
        "migrate",
        help="write inference checkpoints beside training checkpoints",
        description="For each training checkpoint (checkpoint_epNNNNNN.pt, HAMLET's or the "
        "original system's) in PATH, write the inference checkpoint model_epNNNNNN.pt "
        "beside it.",
    )
    sub.add_argument("path", metavar="PATH", help="a training checkpoint or a folder of them")
    sub.set_defaults(run=_migrate, parser=sub)
    return parser


if __name__ == "__main__":
    sys.exit(main())

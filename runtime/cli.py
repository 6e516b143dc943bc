"""``hamlet``: work with config packs, trained models and runs.

Exit codes: 0 success, 1 a problem with the input (explained on stderr), 2 a
usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version

from hamlet.compiler.cli import run_cli
from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import load_pack, observation_layout


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
    return parser


if __name__ == "__main__":
    sys.exit(main())

"""``hamletc``: compile, check, draw and document brain specs.

Exit codes: 0 success, 1 a spec error (rendered on stderr with the source line),
2 a usage error. A mistake in a spec never shows a Python traceback.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from hamlet.schemas import enclosing_pack, load_pack, observation_layout, options
from hamlet.schemas.errors import (
    Diagnostic,
    HamletError,
    SpecError,
    StorageError,
    UsageError,
    render,
)
from hamlet.schemas.layout import ObservationLayout
from hamlet.schemas.override import COMMAND_LINE, Override, command_line_source, parse_overrides
from hamlet.schemas.source import format_path
from hamlet.schemas.validate import load_schema

from .diagram import dot, mermaid
from .graph import build_graph
from .load import BrainSource, load_brain
from .memory import DEFAULT_MAX_MEMORY, Batch, format_bytes, observation_parts, over_limit
from .pipeline import CompiledBrain, compile_brain
from .summary import format_table, summarize, summary_json

SCHEMA_NAMES = ("brain", "training", "bars", "affordances", "cascades", "stream", "sweep")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run_cli(_parser(), argv)
    except MemoryError:  # under a --max-memory raised above what this machine has
        print_diagnostics(
            [
                Diagnostic(
                    "E134",
                    "this machine ran out of memory",
                    hint="set --max-memory to what the machine has (the brain is refused "
                    "before anything is allocated then), or make the brain's sizes smaller",
                )
            ]
        )
        return 1


def _unrecognized(parser: argparse.ArgumentParser, unknown: list[str]) -> str:
    flags = [flag for action in parser._actions for flag in action.option_strings]
    message = f"unrecognized arguments: {' '.join(unknown)}"
    for word in unknown:
        near = difflib.get_close_matches(word.split("=")[0], flags, n=1, cutoff=0.75)
        if word.startswith("-") and near:
            message += f" (did you mean {near[0]}?)"
            break
    return message


def run_cli(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the chosen subcommand (``args.run(args)``), turning
    SpecErrors into rendered messages (exit 1). Shared by ``hamletc`` and ``hamlet``.

    A problem placed on a ``--set`` is shown with that ``--set`` as its snippet, read
    from ``args.set`` (the option's texts, in order)."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # refused by the subcommand's own parser: its usage, and the near flags
        command = getattr(args, "parser", None) or parser
        command.error(_unrecognized(command, unknown))
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    command_line = command_line_source(getattr(args, "set", None) or [])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = args.run(args)
        # Warnings that carry a diagnostic are shown like the errors; others as usual.
        for warning in caught:
            diagnostic = getattr(warning.message, "diagnostic", None)
            if isinstance(diagnostic, Diagnostic):
                print_diagnostics([diagnostic], command_line=command_line)
            else:
                warnings.showwarning(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        return status
    except HamletError as error:
        print_diagnostics(error.errors, command_line=command_line)
        return error.exit_status
    except BrokenPipeError:  # e.g. `hamletc schema | head`: the reader has gone, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


# --- commands -------------------------------------------------------------------------


def _compile(args: argparse.Namespace) -> int:
    results = []
    overrides = _brain_overrides(args)
    for path in args.brains:
        brain, world = _compile_one(path, args, overrides)
        module = brain.instantiate()
        rows = summarize(brain, module)
        results.append((brain, rows))
        if not args.json:
            print(format_table(brain, rows, world=world))
        if args.out:
            many = len(args.brains) > 1
            target = Path(args.out) / brain.resolved.spec.name if many else Path(args.out)
            written = _write_outputs(brain, target)
            if not args.json:
                print(f"wrote {', '.join(str(w) for w in written)}")
        if not args.json and len(args.brains) > 1:
            print()
    if args.json:
        data = [summary_json(b, rows) for b, rows in results]
        print(json.dumps(data[0] if len(data) == 1 else data, indent=2))
    return 0


def _check(args: argparse.Namespace) -> int:
    failed = False
    overrides = _brain_overrides(args)
    for path in args.brains:
        try:
            source = load_brain(path, overrides=overrides)
            layout, world = _layout_for(source, args)
            if layout is None and source.spec.observation.fields is None:
                graph = build_graph(source.doc, source.spec)
                print_diagnostics(graph.warnings)
                print(f"ok  {path}: structure checked (no world, so sizes were not checked)")
                continue
            brain = compile_brain(source, layout=layout, max_memory=args.max_memory)
            print_diagnostics(brain.warnings)
            where = f" in world {world}" if world else ""
            print(
                f"ok  {path}: {brain.resolved.spec.name}{where}, obs {brain.layout.obs_dim} -> "
                f"{brain.layout.num_actions} actions, {brain.spec_hash}"
            )
        except SpecError as error:
            print_diagnostics(error.errors, command_line=command_line_source(args.set))
            failed = True
    return 1 if failed else 0


def _graph(args: argparse.Namespace) -> int:
    brain, _ = _compile_one(args.brain, args, _brain_overrides(args))
    print(dot(brain.resolved) if args.dot else mermaid(brain.resolved), end="")
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(load_schema(args.kind), indent=2))
    return 0


# --- helpers --------------------------------------------------------------------------


def _brain_overrides(args: argparse.Namespace) -> tuple[Override, ...]:
    """The ``--set``s, each checked to be a setting of brain.yaml."""
    return parse_overrides(args.set, files=("brain",))


def _compile_one(
    path: str, args: argparse.Namespace, overrides: Sequence[Override]
) -> tuple[CompiledBrain, str | None]:
    source = load_brain(path, overrides=overrides)
    layout, world = _layout_for(source, args)
    brain = compile_brain(source, layout=layout, max_memory=args.max_memory)
    print_diagnostics(brain.warnings)
    return brain, world


def _layout_for(
    source: BrainSource, args: argparse.Namespace
) -> tuple[ObservationLayout | None, str | None]:
    """The observation layout to size the brain against, and the world's name."""
    parser = args.parser
    if args.world and args.obs:
        parser.error("give either --world or --obs, not both")
    if args.obs:
        if args.actions is None:
            parser.error("--obs needs --actions N (the number of actions)")
        _check_flags_size(source, args)
        return ObservationLayout.from_shapes(args.obs, args.actions), None
    pack_dir = args.world or (source.path and enclosing_pack(source.path))
    if not pack_dir:
        if args.actions:
            parser.error("--actions needs --obs (or use --world)")
        return None, None
    pack = load_pack(pack_dir)
    return observation_layout(pack), pack.name


def _check_flags_size(source: BrainSource, args: argparse.Namespace) -> None:
    """Refuse (E134) an observation from --obs/--actions too large for the memory limit,
    before the layout is built: it names every action, so `--actions 1000000000` would
    build a billion names first."""
    fields = [(math.prod(shape), (f"--obs {name}",)) for name, shape in args.obs]
    batch = Batch(source.spec.learning, recurrent=False)  # the least any brain needs
    parts = observation_parts(batch, fields, (args.actions, ("--actions",)))
    overrun = over_limit(parts, args.max_memory)
    if overrun is not None:
        flag = format_path(overrun.path)
        raise UsageError(  # the flags' values cannot work: exit 2, as hamlet run --agents
            Diagnostic(
                "E134",
                overrun.message,
                hint=f"make {flag} smaller; if you do mean it and the machine has the memory, "
                "raise the limit with --max-memory GIB",
                file="<command line>",
                path=flag,
            )
        )


def _write_outputs(brain: CompiledBrain, target: Path) -> list[Path]:
    try:
        target.mkdir(parents=True, exist_ok=True)
        resolved, model = target / "resolved.json", target / "model.py"
        resolved.write_text(json.dumps(brain.to_dict(), indent=2) + "\n", encoding="utf-8")
        model.write_text(brain.source, encoding="utf-8")
    except OSError as exc:
        raise StorageError(
            Diagnostic(
                "E313",
                f"could not write {target}: {exc.strerror or exc}",
                file=str(target),
                hint="write somewhere else (-o DIR), or free some space or fix its permissions",
            )
        ) from None
    return [resolved, model]


def print_diagnostics(
    diagnostics: Sequence[Diagnostic], *, command_line: str | None = None
) -> None:
    """Render diagnostics on stderr (in colour on a terminal unless NO_COLOR is set).

    ``command_line`` is the text of the ``--set``s (``command_line_source``), the source
    of the diagnostics placed on them."""
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    for diagnostic in diagnostics:
        source = command_line if diagnostic.file == COMMAND_LINE else None
        print(render(diagnostic, source, color=color), file=sys.stderr)
        print(file=sys.stderr)
    errors = sum(d.severity == "error" for d in diagnostics)
    if errors > 1:
        print(f"{errors} errors", file=sys.stderr)


def _obs_field(text: str) -> tuple[str, tuple[int, ...]]:
    match = re.fullmatch(r"([a-z][a-z0-9_]*)=(\d+(?:x\d+){0,2})", text)
    if not match:
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=SHAPE (e.g. meters=8 or grid=5x5)")
    shape = tuple(int(n) for n in match.group(2).split("x"))
    if 0 in shape:
        raise argparse.ArgumentTypeError(f"'{text}': sizes must be positive")
    return match.group(1), shape


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hamletc",
        description="Compile brain.yaml specs into PyTorch Q-networks.",
        epilog="Exit codes: 0 ok, 1 spec error, 2 usage error. "
        "Docs: docs/brain.md (the spec), docs/errors.md (error codes).",
    )
    parser.add_argument("--version", action="version", version=f"hamletc {version('hamlet')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def sizing_options(sub: argparse.ArgumentParser) -> None:
        group = sub.add_argument_group(
            "observation layout",
            "A brain inside a config pack uses that pack's world; otherwise give one here "
            "(or write an `observation:` section in the brain).",
        )
        group.add_argument("--world", metavar="PACK_DIR", help="size the brain for this pack")
        group.add_argument(
            "--obs",
            metavar="NAME=SHAPE",
            type=_obs_field,
            action="append",
            help="an observation field, in vector order (repeat), e.g. --obs grid=5x5",
        )
        group.add_argument(
            "--actions", metavar="N", type=options.positive_int, help="number of actions"
        )
        sub.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a setting of the brain (repeat), e.g. --set learning.gamma=0.95 or "
            "--set network.head.hidden=[64,64]; the value is YAML (docs/brain.md)",
        )
        sub.add_argument(
            "--max-memory",
            metavar="GIB",
            type=options.gibibytes,
            default=DEFAULT_MAX_MEMORY,
            help="refuse (E134) a brain whose training would need more memory than this, "
            f"estimated from its sizes (default {format_bytes(DEFAULT_MAX_MEMORY)})",
        )

    brains_help = "brain.yaml files or built-in brain names (simple_q, recurrent_spatial_q)"
    sub = commands.add_parser(
        "compile",
        help="compile brains: print a summary, write resolved.json and model.py",
        description="Compile brains: print a per-node summary; with -o, write the resolved "
        "spec (resolved.json) and the generated standalone PyTorch module (model.py).",
    )
    sub.add_argument("brains", nargs="+", metavar="BRAIN", help=brains_help)
    sizing_options(sub)
    sub.add_argument("-o", "--out", metavar="OUT_DIR", help="write resolved.json and model.py here")
    sub.add_argument("--json", action="store_true", help="print the summary as JSON")
    sub.set_defaults(run=_compile, parser=sub)

    sub = commands.add_parser(
        "check", help="validate brains without building them", description="Validate brains."
    )
    sub.add_argument("brains", nargs="+", metavar="BRAIN", help=brains_help)
    sizing_options(sub)
    sub.set_defaults(run=_check, parser=sub)

    sub = commands.add_parser(
        "graph",
        help="print a brain's graph (Mermaid, or DOT with --dot)",
        description="Print the brain's node graph as a Mermaid flowchart or Graphviz DOT.",
    )
    sub.add_argument("brain", metavar="BRAIN", help="a brain.yaml file or built-in brain name")
    sizing_options(sub)
    sub.add_argument("--dot", action="store_true", help="print Graphviz DOT instead of Mermaid")
    sub.set_defaults(run=_graph, parser=sub)

    sub = commands.add_parser(
        "schema",
        help="print a JSON Schema (brain by default)",
        description="Print the JSON Schema of a HAMLET file format.",
    )
    sub.add_argument("kind", nargs="?", default="brain", choices=SCHEMA_NAMES)
    sub.set_defaults(run=_schema, parser=sub)
    return parser


if __name__ == "__main__":
    sys.exit(main())

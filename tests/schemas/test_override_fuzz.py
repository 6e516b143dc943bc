"""Fuzzing ``--set``: random override strings, mutated from the real keys of a pack, go
through parsing (single and grid), load_pack, the compiler and pack_texts, and through
``hamletc check --set``. Each must succeed or end in a HamletError whose diagnostics
render (an exit status, for hamletc); never another exception.
``HAMLET_FUZZ_SEED`` picks other strings, as for tests/test_fuzz.py."""

from __future__ import annotations

import json
import os
import random
import traceback
from typing import Any

from hamlet.compiler import compile_brain, load_brain, pack_texts
from hamlet.compiler.cli import main
from hamlet.configs import pack_dir
from hamlet.schemas import (
    HamletError,
    command_line_source,
    load_pack,
    observation_layout,
    parse_grid,
    parse_overrides,
    render,
)
from hamlet.schemas.override_keys import FILES
from hamlet.schemas.source import format_path, load_yaml

SEED = int(os.environ.get("HAMLET_FUZZ_SEED", "20261202")) + 7
PACK = pack_dir("L0_5_dual_resource")
VALUES = [
    ".nan", ".inf", "-.inf", "-1", "0", "-0.0", "1e12", "1e308", "1e400", "99999999999999999999",
    "2147483648", "true", "null", "''", "'text'", "[]", "{}", "[1, 2]", "0x10", "1_000", "~",
    '"\\0"', '"\\ud800"', "!!binary aGk=", "&a x", "*nowhere", "&a [*a]", "[1, 2", "{a: 1",
    "'", '"', "|", ">", "- x", "? x", "%x", "@x", "`x", ",", ",,", "1,2", "[1,[2]],3", "#",
    "a: b", "{a: 1, a: 2}", "[1000000000]", "[1099511627776]", "2e9", "0.5", "1", "8",
    "relu", "adam", "obs", "Bed", "all", "[64, 64]", "{every: 5}", "\udcff", "\u202e",
    "x" * 5000, "[" * 200 + "]" * 200, "{kind: mlp, input: obs, hidden: [4]}",
]  # fmt: skip
JUNK = ["", " ", ".", "..", "[", "]", "[0]", "[99]", "[-1]", "=", "\t", "\n", "\udcff", "é", "x"]


def real_settings(rng: random.Random) -> list[tuple[str, str]]:
    """Every key path written in the pack's files (brain merged with its base), some
    with their file's prefix, and its value as a --set writes it."""
    keys = []
    documents = {kind: load_yaml(PACK / f"{kind}.yaml").data for kind in FILES if kind != "brain"}
    documents["brain"] = load_brain(PACK / "brain.yaml").doc.data
    for kind, data in documents.items():
        stack: list[tuple[tuple, Any]] = [((), data)]
        while stack:
            path, value = stack.pop()
            if path:
                prefix = f"{kind}." if rng.random() < 0.2 else ""
                keys.append((prefix + format_path(path), json.dumps(value, ensure_ascii=False)))
            if isinstance(value, dict):
                stack.extend(((*path, k), v) for k, v in value.items())
            elif isinstance(value, list):
                stack.extend(((*path, i), v) for i, v in enumerate(value))
    # Optional settings no shipped file of this pack writes.
    keys += [
        ("exploration.epsilon.on_advance", '{"value": 0.3, "fraction": 0.1}'),
        ("exploration.epsilon.on_advance.value", "0.3"),
        ("exploration.rnd.train_every", "8"),
        ("exploration.epsilon.repeat", '{"mu": 2.0, "max": 10}'),
        ("exploration.epsilon.repeat.max", "10"),
        ("exploration.demonstrations", '{"share": 0.125}'),
        ("exploration.demonstrations", '{"share": 0.25, "until": 0.5}'),
    ]
    return keys


def mutate_key(key: str, rng: random.Random) -> str:
    operator = rng.randrange(12)
    at = rng.randrange(len(key) + 1)
    if operator == 0:
        return key[:at] + rng.choice(JUNK) + key[at:]
    if operator == 1 and len(key) > 1:
        return key[:at] + key[at + 1 :]
    if operator == 2:
        return f"{rng.choice([*FILES, 'brian', 'runs'])}.{key}"
    if operator == 3:
        return key + rng.choice([".x", "[0]", "[1000000]", ".kind", ".hidden", ".alpha"])
    if operator == 4:
        return key.rsplit(".", 1)[0]
    return key  # most keys stay real, so that the values reach validation


def random_text(settings: list[tuple[str, str]], rng: random.Random) -> str:
    key, real = rng.choice(settings)
    key = mutate_key(key, rng)
    values = [real if rng.random() < 0.7 else rng.choice(VALUES) for _ in range(rng.choice([1, 2]))]
    separator = rng.choice(["=", "=", "=", "", "==", " = "])
    return key + separator + ",".join(values)


def test_random_overrides_end_in_success_or_a_hamlet_error():
    rng = random.Random(SEED)
    settings = real_settings(rng)
    layout = observation_layout(load_pack(PACK))
    outcomes = {"ok": 0, "error": 0}
    crashes = []
    for case in range(300):
        texts = [random_text(settings, rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        try:
            try:
                if rng.random() < 0.5:
                    overrides = parse_overrides(texts)
                else:
                    grids = [parse_grid(text, index=i) for i, text in enumerate(texts)]
                    overrides = tuple(rng.choice(grid) for grid in grids)
                load_pack(PACK, overrides=overrides)
                compile_brain(PACK / "brain.yaml", layout=layout, overrides=overrides)
                if case % 5 == 0:
                    pack_texts(PACK, overrides)
                outcomes["ok"] += 1
            except HamletError as error:
                for diagnostic in error.errors:
                    render(diagnostic, command_line_source(texts), color=True)
                outcomes["error"] += 1
        except Exception:  # the point: anything but a HamletError is a bug
            crashes.append(f"{texts!r}\n{traceback.format_exc()[-2000:]}")
    assert not crashes, "\n\n".join(crashes[:3])
    assert outcomes["ok"] >= 15 and outcomes["error"] >= 100, outcomes  # both kinds reached


def test_random_sets_on_hamletc_exit_with_a_status_and_no_traceback(capsys):
    rng = random.Random(SEED + 1)
    settings = [(k, v) for k, v in real_settings(rng) if not k.startswith(FILES[1:])]
    for _ in range(40):
        argv = ["check", str(PACK / "brain.yaml")]
        for _ in range(rng.choice([1, 2])):
            argv += ["--set", random_text(settings, rng)]
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse: a --set with no text after it
            status = exit_.code
        _, err = capsys.readouterr()
        assert status in (0, 1, 2), argv
        assert "Traceback" not in err, argv

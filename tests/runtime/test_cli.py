"""``hamlet``: the runtime command line."""

from __future__ import annotations

import json

import pytest

from hamlet.runtime.cli import main


def test_packs_lists_every_pack_with_its_observation_size(capsys):
    assert main(["packs"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert [(r[0], r[-2]) for r in rows] == [
        ("L0_0_minimal", "36"),
        ("L0_5_dual_resource", "76"),
        ("L1_full_observability", "91"),
        ("L2_partial_observability", "54"),
        ("L3_temporal_mechanics", "54"),
    ]
    assert rows[3][2:4] == ["5x5", "window"]


def test_packs_paths(capsys):
    assert main(["packs", "--paths"]) == 0
    assert "L1_full_observability: " in capsys.readouterr().out


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("hamlet 0.1.0")
    assert main([]) == 2


def test_inspect_shows_format_architecture_hash_metadata_and_layout(tmp_path, capsys):
    from hamlet.runtime import HamletModel

    model = HamletModel.from_spec("recurrent_spatial_q", world="L2_partial_observability", seed=0)
    path = model.save(tmp_path / "model_ep000042.pt", episode=42, epsilon=0.25, curriculum_stage=2)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "format       inference_v1" in out
    assert "network      lstm, 636,486 parameters" in out
    assert f"spec hash    {model.spec_hash}" in out
    assert "observation  54 values: grid [5, 5], position [2]" in out
    assert "actions      UP, DOWN, LEFT, RIGHT, INTERACT, WAIT" in out
    assert "  episode: 42" in out and "  epsilon: 0.25" in out

    assert main(["inspect", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["parameters"] == 636486 and info["architecture"]["recurrent"] == "lstm"
    assert info["observation"]["fields"][1] == {"name": "position", "shape": [2], "slice": [25, 27]}
    assert info["metadata"]["curriculum_stage"] == 2


def test_inspect_of_a_broken_file_exits_1_without_a_traceback(tmp_path, capsys):
    (tmp_path / "m.pt").write_text("nope")
    assert main(["inspect", str(tmp_path / "m.pt")]) == 1
    err = capsys.readouterr().err
    assert "error[E201]" in err and "Traceback" not in err


def test_the_set_example_of_run_help_works_on_every_shipped_pack(capsys):
    import re

    from hamlet.compiler import compile_brain
    from hamlet.schemas import load_pack, observation_layout
    from hamlet.schemas.override import parse_overrides

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    example = re.findall(r"--set ([a-z_.]+=[^\s;]+)", text)
    assert len(example) == 2, text
    overrides = parse_overrides(example)
    for name in ("L0_0_minimal", "L0_5_dual_resource", "L1_full_observability",
                 "L2_partial_observability", "L3_temporal_mechanics"):  # fmt: skip
        pack = load_pack(name, overrides=overrides)
        compile_brain(pack.directory / "brain.yaml", layout=observation_layout(pack),
                      overrides=overrides)  # fmt: skip


def test_an_unknown_flag_shows_the_subcommands_usage_and_the_near_flag(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "L0_0_minimal", "--agentz", "4"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("usage: hamlet run")
    assert "unrecognized arguments: --agentz 4 (did you mean --agents?)" in err

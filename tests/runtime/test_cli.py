"""``hamlet``: the runtime command line."""

from __future__ import annotations

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

"""``hamletc`` as a user runs it: output, files, exit codes, and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hamlet.compiler.cli import main
from hamlet.configs import pack_dir

L1 = pack_dir("L1_full_observability")
L2 = pack_dir("L2_partial_observability")
L3 = pack_dir("L3_temporal_mechanics")
L2_OBS = ["--obs", "grid=5x5", "--obs", "position=2", "--obs", "meters=8",
          "--obs", "affordance=15", "--obs", "temporal=4", "--actions", "6"]  # fmt: skip


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse exits on usage errors and --help
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_compile_prints_the_summary_table(capsys):
    code, out, err = run(capsys, "compile", str(L2 / "brain.yaml"))
    assert code == 0, err
    assert "brain L2_partial_observability (world L2_partial_observability): obs 54" in out
    lines = out.splitlines()
    assert lines[1].split() == [
        "node",
        "kind",
        "input",
        "input",
        "shape",
        "output",
        "shape",
        "params",
    ]
    lstm = next(line for line in lines if line.startswith("lstm "))
    assert lstm.split()[-1] == "493,568"
    assert lines[-1].split() == ["total", "636,486"]


def test_compile_writes_resolved_json_and_a_standalone_model(tmp_path, capsys):
    code, out, _ = run(capsys, "compile", str(L3 / "brain.yaml"), "-o", str(tmp_path))
    assert code == 0
    resolved = json.loads((tmp_path / "resolved.json").read_text())
    assert resolved["network"]["temporal_encoder"]["input"] == "obs.temporal"
    assert "wrote" in out
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys
        class NoHamlet(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "hamlet" or name.startswith("hamlet."):
                    raise ImportError("hamlet must not be needed")
        sys.meta_path.insert(0, NoHamlet())
        import runpy, torch
        ns = runpy.run_path({str(tmp_path / "model.py")!r})
        model = ns["L3TemporalMechanics"]()
        h, c = model.initial_state(2)
        q, h, c = model(torch.zeros(2, 54), h, c)
        assert q.shape == (2, 6), q.shape
        loaded = [m for m in sys.modules if m == "hamlet" or m.startswith("hamlet.")]
        assert not loaded, loaded
        print("standalone ok", model.spec_hash)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "standalone ok sha256:" in result.stdout


def test_compile_several_brains_into_one_folder(tmp_path, capsys):
    code, _, _ = run(capsys, "compile", str(L1 / "brain.yaml"), str(L2 / "brain.yaml"),
                     "-o", str(tmp_path))  # fmt: skip
    assert code == 0
    assert (tmp_path / "L1_full_observability" / "model.py").is_file()
    assert (tmp_path / "L2_partial_observability" / "resolved.json").is_file()


def test_compile_json_output(capsys):
    code, out, _ = run(capsys, "compile", "simple_q", "--world", str(L1), "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["obs_dim"], data["num_actions"], data["total_params"]) == (91, 6, 29574)
    assert data["spec_hash"].startswith("sha256:")


def test_compile_with_obs_flags(capsys):
    code, out, _ = run(capsys, "compile", "recurrent_spatial_q", *L2_OBS)
    assert code == 0
    assert "obs 54 -> 6 actions" in out


def test_spec_error_exits_1_with_a_rendered_message_and_no_traceback(tmp_path, capsys):
    brain = tmp_path / "brain.yaml"
    brain.write_text("extends: simple_q\nnetwork:\n  net:\n    hiden: [64]\n")
    code, out, err = run(capsys, "compile", str(brain), "--world", str(L1))
    assert code == 1
    assert out == ""
    assert "error[E110]: unknown key 'hiden' in 'network.net'" in err
    assert "4 |     hiden: [64]" in err
    assert "did you mean 'hidden'" in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    assert run(capsys, "compile")[0] == 2
    assert run(capsys, "compile", "simple_q", "--obs", "grid=axb")[0] == 2
    assert run(capsys, "compile", "simple_q", "--world", str(L1), "--obs", "m=8")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2
    assert run(capsys)[0] == 2


def test_missing_world_for_a_standalone_brain_is_explained(capsys):
    code, _, err = run(capsys, "compile", "simple_q")
    assert code == 1
    assert "error[E132]" in err and "--world" in err


def test_check_validates_and_reports_each_brain(capsys):
    code, out, _ = run(capsys, "check", *(str(pack_dir(p) / "brain.yaml") for p in
                                          ("L0_0_minimal", "L3_temporal_mechanics")))  # fmt: skip
    assert code == 0
    assert out.count("ok  ") == 2
    code, out, _ = run(capsys, "check", "simple_q")
    assert code == 0 and "structure checked" in out


def test_check_fails_when_any_brain_fails(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: {head: {kind: q_head, input: nothing}}\n")
    code, out, err = run(capsys, "check", "simple_q", str(bad))
    assert code == 1
    assert "ok  simple_q" in out
    assert "error[E121]" in err


def test_graph_prints_mermaid_and_dot(capsys):
    code, out, _ = run(capsys, "graph", str(L2 / "brain.yaml"))
    assert code == 0
    assert out.startswith("flowchart TD")
    assert "obs_grid --> vision_encoder" in out
    assert "features --> lstm" in out
    code, out, _ = run(capsys, "graph", str(L2 / "brain.yaml"), "--dot")
    assert out.startswith('digraph "L2_partial_observability"')
    assert '"lstm" -> "lstm_norm";' in out


def test_schema_prints_json_schemas(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert json.loads(out)["title"] == "HAMLET brain"
    code, out, _ = run(capsys, "schema", "training")
    assert "environment" in json.loads(out)["properties"]


@pytest.mark.parametrize("command", [[], ["compile"], ["check"], ["graph"], ["schema"]])
def test_help_everywhere(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith("usage: hamletc")


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "hamletc"
    result = subprocess.run([str(exe), "check", "simple_q"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_obs_without_actions_is_a_usage_error_naming_the_subcommand(capsys):
    code, _, err = run(capsys, "compile", "simple_q", "--obs", "meters=8")
    assert code == 2
    assert err.startswith("usage: hamletc compile")
    assert "--obs needs --actions" in err


def test_a_closed_pipe_is_not_a_traceback():
    exe = Path(sys.executable).parent / "hamletc"
    process = subprocess.Popen(
        [str(exe), "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    process.stdout.close()  # the reader is gone before hamletc writes anything
    err = process.stderr.read()
    assert process.wait() == 0
    assert "Traceback" not in err and "BrokenPipe" not in err

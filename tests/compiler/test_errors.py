"""Every kind of bad brain gives a SpecError that says what, where, and how to fix it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hamlet.compiler import SpecError, compile_brain, load_brain, resolve_brain
from hamlet.schemas.errors import render

GOOD = """\
network:
  encoder:
    kind: mlp
    input: obs.meters
    hidden: [32]
  head:
    kind: q_head
    input: encoder
    hidden: [16]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "brain.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def compile_error(tmp_path: Path, text: str, layout) -> SpecError:
    with pytest.raises(SpecError) as info:
        compile_brain(write(tmp_path, text), layout=layout)
    return info.value


def test_the_good_brain_compiles(tmp_path, full_layout):
    assert compile_brain(write(tmp_path, GOOD), layout=full_layout).layout.obs_dim == 91


def test_yaml_syntax_error_points_at_the_line(tmp_path, full_layout):
    error = compile_error(tmp_path, GOOD.replace("hidden: [32]", "hidden: [32"), full_layout)
    assert error.code == "E100"
    assert error.file.endswith("brain.yaml")
    assert error.line in (5, 6)
    assert "YAML" in str(error)


def test_duplicate_key(tmp_path, full_layout):
    error = compile_error(
        tmp_path, GOOD.replace("    hidden: [32]", "    hidden: [32]\n    hidden: [8]"), full_layout
    )
    assert (error.code, error.line) == ("E101", 6)
    assert "'hidden'" in error.errors[0].message
    assert "remove one" in error.hint


def test_unknown_key_suggests_the_intended_one(tmp_path, full_layout):
    error = compile_error(tmp_path, GOOD.replace("hidden: [32]", "hiden: [32]"), full_layout)
    unknown = next(d for d in error.errors if d.code == "E110")
    assert (unknown.line, unknown.column, unknown.path) == (5, 5, "network.encoder.hiden")
    assert "did you mean 'hidden'" in unknown.hint


def test_wrong_type(tmp_path, full_layout):
    error = compile_error(tmp_path, GOOD.replace("hidden: [16]", "hidden: sixteen"), full_layout)
    assert (error.code, error.line, error.path) == ("E112", 9, "network.head.hidden")
    assert "expected a list" in error.errors[0].message
    assert "write a list" in error.hint


def test_value_out_of_range(tmp_path, full_layout):
    text = GOOD + "learning:\n  gamma: 1.5\n"
    error = compile_error(tmp_path, text, full_layout)
    assert (error.code, error.line, error.path) == ("E113", 11, "learning.gamma")
    assert "<= 1" in error.hint


def test_unknown_node_kind(tmp_path, full_layout):
    error = compile_error(tmp_path, GOOD.replace("kind: mlp", "kind: mpl"), full_layout)
    assert (error.code, error.line, error.column) == ("E120", 3, 11)
    assert "did you mean 'mlp'" in error.hint


def test_unknown_reference_suggests_a_node(tmp_path, full_layout):
    error = compile_error(tmp_path, GOOD.replace("input: encoder", "input: encodr"), full_layout)
    assert (error.code, error.line, error.path) == ("E121", 8, "network.head.input")
    assert "did you mean 'encoder'" in error.hint


def test_cycle_is_named(tmp_path, full_layout):
    text = """\
    network:
      a: {kind: mlp, input: c, hidden: [8]}
      b: {kind: mlp, input: a, hidden: [8]}
      c: {kind: concat, inputs: [b, obs.meters]}
      head: {kind: q_head, input: c}
    """
    error = compile_error(tmp_path, text, full_layout)
    assert error.code == "E122"
    assert "a -> b -> c -> a" in error.errors[0].message


def test_unused_node_is_a_warning_and_left_out(tmp_path, full_layout):
    text = GOOD + "  spare:\n    kind: mlp\n    input: obs\n    hidden: [4]\n"
    brain = compile_brain(write(tmp_path, text), layout=full_layout)
    (warning,) = brain.warnings
    assert (warning.code, warning.severity, warning.line) == ("E123", "warning", 10)
    assert "spare" in warning.message
    assert "spare" not in brain.to_dict()["network"]
    assert not hasattr(brain.instantiate(), "spare")


def test_dimension_conflict_names_both_nodes(tmp_path, full_layout):
    text = GOOD.replace("    hidden: [16]", "    hidden: [16]\n    input_size: 30")
    error = compile_error(tmp_path, text, full_layout)
    assert (error.code, error.path) == ("E130", "network.head.input_size")
    assert "'head'" in error.errors[0].message and "'encoder'" in error.errors[0].message
    assert "32" in error.hint


def test_missing_observation_field(tmp_path, full_layout):
    error = compile_error(tmp_path, GOOD.replace("obs.meters", "obs.meter"), full_layout)
    assert (error.code, error.line, error.path) == ("E131", 4, "network.encoder.input")
    assert "did you mean 'meters'" in error.hint


def test_auto_that_cannot_be_resolved(tmp_path):
    error = compile_error(tmp_path, GOOD, None)
    assert (error.code, error.path) == ("E132", "network.encoder.input")
    assert "--world" in error.hint


def test_actions_auto_without_a_world_is_unresolvable(tmp_path):
    text = GOOD + "observation:\n  fields: [{name: meters, shape: [8]}]\n"
    error = compile_error(tmp_path, text, None)
    assert (error.code, error.path) == ("E132", "network.head.actions")


def test_no_head_and_two_heads(tmp_path, full_layout):
    error = compile_error(tmp_path, GOOD.replace("kind: q_head", "kind: mlp"), full_layout)
    assert error.code in ("E111", "E124")
    text = GOOD + "  head2:\n    kind: q_head\n    input: encoder\n"
    error = compile_error(tmp_path, text, full_layout)
    assert (error.code, error.path) == ("E124", "network.head2.kind")


def test_reserved_node_name(tmp_path, full_layout):
    error = compile_error(tmp_path, GOOD.replace("encoder", "forward"), full_layout)
    assert (error.code, error.path) == ("E127", "network.forward")


def test_conv_on_a_vector_is_an_incompatible_shape(tmp_path, full_layout):
    text = GOOD.replace("kind: mlp", "kind: conv").replace("hidden: [32]", "channels: [4]")
    error = compile_error(tmp_path, text, full_layout)
    assert (error.code, error.path) == ("E133", "network.encoder.input")


def test_errors_are_all_reported_at_once(tmp_path, full_layout):
    text = GOOD.replace("hidden: [32]", "hiden: [32]").replace("kind: q_head", "kind: q_haed")
    error = compile_error(tmp_path, text, full_layout)
    assert {d.code for d in error.errors} >= {"E110", "E120"}


def test_errors_in_an_extended_builtin_point_at_the_builtin(tmp_path, partial_layout):
    text = "extends: recurrent_spatial_q\nnetwork:\n  features: null\n"
    error = compile_error(tmp_path, text, partial_layout)
    assert error.code == "E121"
    assert error.file.endswith("recurrent_spatial_q.yaml")
    assert error.path == "network.lstm.input"


def test_unknown_base(tmp_path, full_layout):
    error = compile_error(tmp_path, "extends: simple_qq\n", full_layout)
    assert (error.code, error.line) == ("E126", 1)
    assert "did you mean 'simple_q'" in error.hint


def test_extends_cycle(tmp_path, full_layout):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(SpecError) as info:
        load_brain(tmp_path / "a.yaml")
    assert info.value.code == "E126" and "loops" in str(info.value)


def test_missing_file_and_misspelt_builtin():
    with pytest.raises(SpecError) as info:
        load_brain("no/such/brain.yaml")
    assert info.value.code == "E103"
    with pytest.raises(SpecError) as info:
        load_brain("simpel_q")
    assert "did you mean 'simple_q'" in info.value.hint


def test_rendering_shows_the_source_line_with_a_caret(tmp_path, full_layout):
    error = compile_error(tmp_path, GOOD.replace("hidden: [32]", "hiden: [32]"), full_layout)
    text = render(error.errors[0])
    assert "error[E110]" in text
    assert "brain.yaml:5:5" in text
    assert "5 |     hiden: [32]" in text
    assert "  |     ^^^^^" in text
    assert "help: did you mean 'hidden'" in text


def test_spec_error_is_a_value_error():
    assert issubclass(SpecError, ValueError)


def test_structure_checks_need_no_world(tmp_path):
    source = load_brain(write(tmp_path, GOOD))
    with pytest.raises(SpecError):
        resolve_brain(source, None)


def test_non_finite_numbers_are_rejected(tmp_path, full_layout):
    text = GOOD + "  norm:\n    kind: layer_norm\n    input: encoder\n    eps: .inf\n"
    error = compile_error(tmp_path, text, full_layout)
    assert (error.code, error.path) == ("E114", "network.norm.eps")


def test_docstring_breaking_text_cannot_break_the_generated_source(tmp_path, full_layout):
    text = 'description: \'ends with """ and a \\\\\'\n' + GOOD
    brain = compile_brain(write(tmp_path, text), layout=full_layout)
    namespace: dict = {}
    exec(compile(brain.source, "<generated>", "exec"), namespace)
    assert '"""' in brain.resolved.spec.description


def test_compile_into_a_file_is_e313_with_a_fix(tmp_path, capsys):
    from hamlet.compiler.cli import main

    (tmp_path / "afile").write_text("x")
    assert (
        main(["compile", "simple_q", "--world", "L0_0_minimal", "-o", str(tmp_path / "afile")]) == 1
    )
    err = capsys.readouterr().err
    assert "error[E313]: could not write" in err and "-o DIR" in err

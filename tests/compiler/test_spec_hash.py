"""The spec hash identifies the resolved network, not how its YAML was written."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hamlet.compiler import brain_from_data, compile_brain, compile_resolved, spec_hash

BLOCK = """\
# a brain
network:
  encoder:          # reads the meters
    kind: mlp
    input: obs.meters
    hidden: [32, 16]
  head:
    kind: q_head
    input: encoder
learning:
  gamma: 0.9
"""
FLOW_REORDERED = """\
learning: {gamma: 0.90}
network: {head: {input: encoder, kind: q_head}, encoder: {hidden: [32, 16], input: obs.meters, kind: mlp}}
"""
WITH_DEFAULTS = """\
network:
  encoder: {kind: mlp, input: obs.meters, hidden: [32, 16], activation: relu, layer_norm: false}
  head: {kind: q_head, input: encoder, input_size: 16, actions: auto, dueling: false}
learning: {gamma: 0.9, loss: mse}
"""


def _hash(tmp_path: Path, text: str, layout) -> str:
    path = tmp_path / "b.yaml"
    path.write_text(text)
    return compile_brain(path, layout=layout).spec_hash


def test_hash_ignores_comments_key_order_flow_style_and_written_defaults(tmp_path, full_layout):
    reference = _hash(tmp_path, BLOCK, full_layout)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", reference)
    assert _hash(tmp_path, FLOW_REORDERED, full_layout) == reference
    assert _hash(tmp_path, WITH_DEFAULTS, full_layout) == reference


def test_hash_changes_when_the_network_or_learning_changes(tmp_path, full_layout):
    reference = _hash(tmp_path, BLOCK, full_layout)
    assert _hash(tmp_path, BLOCK.replace("[32, 16]", "[32, 17]"), full_layout) != reference
    assert _hash(tmp_path, BLOCK.replace("0.9", "0.95"), full_layout) != reference


def test_hash_depends_on_the_world(tmp_path, full_layout, partial_layout):
    assert _hash(tmp_path, BLOCK, full_layout) != _hash(tmp_path, BLOCK, partial_layout)


def test_hash_is_sha256_of_canonical_json(full_layout):
    brain = compile_brain("simple_q", layout=full_layout)
    canonical = json.dumps(brain.to_dict(), sort_keys=True, separators=(",", ":"))
    import hashlib

    assert brain.spec_hash == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert spec_hash(brain.to_dict()) == brain.spec_hash


def test_resolved_spec_writes_every_default_and_fills_every_auto(partial_layout):
    resolved = compile_brain("recurrent_spatial_q", layout=partial_layout).to_dict()
    text = json.dumps(resolved)
    assert '"auto"' not in text
    assert resolved["network"]["lstm"]["input_size"] == 224
    assert resolved["network"]["q_head"]["actions"] == 6
    assert resolved["learning"]["target_update"] == {"every": 100, "tau": 1.0}
    assert resolved["observation"]["actions"][4] == "INTERACT"
    assert "extends" not in resolved


def test_resolved_spec_rebuilds_the_same_module(partial_layout):
    brain = compile_brain("recurrent_spatial_q", layout=partial_layout)
    again = compile_resolved(brain.to_dict(), expected_hash=brain.spec_hash)
    assert again.spec_hash == brain.spec_hash
    assert again.source == brain.source
    # and a resolved spec is itself a valid brain: compiling it changes nothing
    assert compile_brain(brain_from_data(brain.to_dict())).spec_hash == brain.spec_hash


def test_tampered_resolved_spec_fails_the_hash_check(full_layout):
    import pytest

    from hamlet.compiler import SpecError

    brain = compile_brain("simple_q", layout=full_layout)
    data = brain.to_dict()
    data["network"]["net"]["hidden"] = [64, 64]
    with pytest.raises(SpecError) as info:
        compile_resolved(data, expected_hash=brain.spec_hash)
    assert brain.spec_hash in str(info.value)

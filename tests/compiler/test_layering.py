"""The layers keep their promises: the spec layer needs no torch, generated code needs
nothing but torch."""

from __future__ import annotations

import ast
import subprocess
import sys

from hamlet.compiler import compile_brain
from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import load_pack, observation_layout


def test_loading_validating_and_resolving_a_brain_never_imports_torch():
    script = (
        "import sys\n"
        "from hamlet.compiler import load_brain, resolve_brain\n"
        "from hamlet.compiler.emit import generate_source\n"
        "from hamlet.compiler.cli import main\n"
        "from hamlet.schemas import load_pack, observation_layout\n"
        "from hamlet.configs import pack_dir\n"
        "layout = observation_layout(load_pack(pack_dir('L3_temporal_mechanics')))\n"
        "brain = resolve_brain(load_brain(pack_dir('L3_temporal_mechanics') / 'brain.yaml'),"
        " layout)\n"
        'assert generate_source(brain).startswith(\'"""\')\n'
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_generated_source_imports_only_torch():
    for pack in PACK_NAMES:
        layout = observation_layout(load_pack(pack_dir(pack)))
        source = compile_brain(pack_dir(pack) / "brain.yaml", layout=layout).source
        imported = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
        assert imported == {"torch"}, (pack, imported)

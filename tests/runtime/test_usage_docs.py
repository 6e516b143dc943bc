"""The usage docs stay true: every Python example in docs/INFERENCE_USAGE.md and
docs/MODEL_EXPORT.md runs, and every ``$ hamlet ...`` command shown prints what the
page shows.

Each page runs as a reader would run it: top to bottom, its Python blocks in one
namespace, its console blocks through ``hamlet``'s ``main``, all in one fresh folder
holding the checkpoints the page names (the ``workdir`` fixture). A block marked
``<!-- not-run -->`` on the line before its fence is skipped.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from hamlet.compiler import brain_from_data
from hamlet.runtime import HamletModel
from hamlet.runtime.cli import main
from hamlet.runtime.export.exportable import describe
from hamlet.runtime.model.checkpoint import TrainingCheckpoint, save_checkpoint
from hamlet.schemas import CODES

from ..compiler.test_docs import Block, fenced_blocks

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ("INFERENCE_USAGE.md", "MODEL_EXPORT.md")
NOT_RUN = "<!-- not-run -->"
# The head the pages' noisy, distributional example brain has.
NOISY_C51 = {
    "extends": "simple_q",
    "name": "noisy_c51",
    "network": {
        "net": {"noisy": True, "distributional": {"atoms": 51, "v_min": -10.0, "v_max": 10.0}}
    },
}


def _blocks(page: str) -> list[Block]:
    return fenced_blocks((DOCS / page).read_text(encoding="utf-8"))


def _trained(brain: Any, pack: str, seed: int, path: str) -> HamletModel:
    """A model saved as the trainer saves one at episode 100 (weights fresh, seeded)."""
    model = HamletModel.from_spec(brain, world=pack, seed=seed)
    model.save(path, episode=100, epsilon=0.05, pack=pack)
    return model


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder laid out as the pages assume: runs of L1 (three seeds), L2 (inference
    and training checkpoints), a noisy C51 brain, and an original-system run."""
    monkeypatch.chdir(tmp_path)
    for seed, run in enumerate(("L1", "L1_seed1", "L1_seed2")):
        _trained("simple_q", "L1_full_observability", seed, f"runs/{run}/model_ep000100.pt")
    l2 = _trained("recurrent_spatial_q", "L2_partial_observability", 0, "runs/L2/model_ep000100.pt")
    weights = l2.module.state_dict()
    training = TrainingCheckpoint(
        brain_spec=l2.spec,
        brain_spec_hash=l2.spec_hash,
        online=weights,
        target=weights,
        optimizer={},
        counters={"episode": 100, "total_steps": 25_000},
        config={},
        metadata={"pack": "L2_partial_observability"},
    )
    save_checkpoint(training, "runs/L2/checkpoint_ep000100.pt")
    _trained(
        brain_from_data(NOISY_C51),
        "L1_full_observability",
        0,
        "runs/L1_noisy_c51/model_ep000100.pt",
    )
    original = {
        "version": 2,
        "episode": 10000,
        "epsilon": 0.05,
        "config_dir": "configs/L2_partial_observability",
        "population_state": {"q_network": weights},
        "training_config": {"population": {"network_type": "recurrent"}},
    }
    Path("runs/townlet_L2").mkdir(parents=True)
    torch.save(original, "runs/townlet_L2/checkpoint_ep10000.pt")
    # The standalone-Python example puts an export on sys.path and imports `model`.
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    sys.modules.pop("model", None)


def _verification_figures(text: str) -> str:
    """Errors measured by --verify depend on the CPU's float kernels; the figures shown
    are one run's, so the comparison leaves them out."""
    return re.sub(r"max \|d([Qh])\| \S+,? ?", r"max |d\1| ..., ", text)


def _run_python(block: Block, page: str, namespace: dict[str, Any]) -> None:
    # Padding puts each line at its line number in the page, so a failure's traceback
    # points into the Markdown file.
    code = compile("\n" * block.line + block.text, str(DOCS / page), "exec")
    exec(code, namespace)


def _check_console(block: Block, page: str, capsys: pytest.CaptureFixture[str]) -> None:
    command, _, shown = block.text.rstrip("\n").partition("\n")
    where = f"docs/{page}:{block.line}"
    assert command.startswith("$ hamlet "), f"{where}: not a hamlet command; mark it {NOT_RUN}"
    capsys.readouterr()
    status = main(shlex.split(command)[2:])
    out, err = capsys.readouterr()
    printed = "\n".join(line.rstrip() for line in (err + out).strip("\n").split("\n"))
    assert _verification_figures(printed) == _verification_figures(shown), where
    assert status == (1 if re.search(r"(?m)^error\[", shown) else 0), where


# MODEL_EXPORT.md says so in prose; the example itself need not repeat the warning.
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("page", PAGES)
def test_every_example_runs_and_every_command_prints_what_the_page_shows(page, workdir, capsys):
    namespace: dict[str, Any] = {"__name__": "__main__"}
    ran = 0
    for block in _blocks(page):
        if block.marker == NOT_RUN:
            continue
        if block.lang == "python":
            _run_python(block, page, namespace)
            ran += 1
        elif block.lang == "console":
            _check_console(block, page, capsys)
            ran += 1
    assert ran >= 8, f"docs/{page} runs only {ran} examples"


@pytest.mark.parametrize("page", PAGES)
def test_every_python_example_asserts_what_it_shows(page):
    silent = [
        block.line
        for block in _blocks(page)
        if block.lang == "python" and block.marker != NOT_RUN and "assert " not in block.text
    ]
    assert not silent, f"docs/{page}: the examples at lines {silent} check nothing"


def _headings(page: str) -> set[str]:
    """The anchors GitHub gives the headings of ``page`` (code blocks left out)."""
    text = re.sub(r"(?ms)^```.*?^```", "", (DOCS / page).read_text(encoding="utf-8"))
    headings = re.findall(r"(?m)^#+ (.+)$", text)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES)
def test_every_link_to_a_section_leads_to_one(page):
    links = re.findall(r"\]\(([\w.]*)#([^)\s]+)\)", (DOCS / page).read_text(encoding="utf-8"))
    assert links
    broken = [
        f"{target}#{anchor}" for target, anchor in links if anchor not in _headings(target or page)
    ]
    assert not broken, f"docs/{page} links to sections that do not exist: {broken}"


def test_inference_usage_lists_every_checkpoint_error_code_with_its_errors_md_section():
    text = (DOCS / "INFERENCE_USAGE.md").read_text(encoding="utf-8")
    listed = re.findall(r"(?m)^\| \[(E20\d)\]\(errors\.md#([a-z0-9-]+)\) \|", text)
    expected = {
        (code, f"{code.lower()}-{CODES[code].name}") for code in CODES if code.startswith("E20")
    }
    assert set(listed) == expected


def test_model_export_documents_every_metadata_key_an_export_carries():
    text = (DOCS / "MODEL_EXPORT.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"(?m)^\| `(hamlet\.\w+)` \|", text))
    recurrent = HamletModel.from_spec("recurrent_spatial_q", world="L2_partial_observability")
    noisy_c51 = HamletModel.from_spec(brain_from_data(NOISY_C51), world="L1_full_observability")
    assert documented == set(describe(recurrent)) | set(describe(noisy_c51))

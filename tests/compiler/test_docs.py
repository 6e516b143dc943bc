"""The docs stay true: every error code is documented, the ``hamletc`` output pasted in
the docs is what hamletc prints, every example brain in docs/brain.md compiles, and
every node kind and each of its keys is described.

Markers on the line before a fence: ``<!-- not-a-brain -->`` (a deliberately partial
YAML block, not compiled), ``<!-- file: PATH -->`` (the worked example's file, written
to PATH before its commands run) and ``<!-- output-not-checked: why -->`` (a console
block that is not re-run).
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hamlet.compiler import BrainSource, compile_brain, load_brain
from hamlet.compiler.cli import main
from hamlet.compiler.kinds import KINDS
from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.schemas import CODES, SpecError, load_pack, load_schema, observation_layout, render
from hamlet.schemas.source import parse_yaml

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
BRAIN_MD = (DOCS / "brain.md").read_text(encoding="utf-8")
ERRORS_MD = (DOCS / "errors.md").read_text(encoding="utf-8")
# Worlds an example brain is compiled against: the first that has every field it reads.
EXAMPLE_WORLDS = ("L1_full_observability", "L2_partial_observability")


@dataclass(frozen=True)
class Block:
    """A fenced code block of a Markdown file."""

    lang: str
    text: str
    line: int
    """1-based line of the opening fence."""
    marker: str
    """The line just before the fence when it is an HTML comment, else ''."""


def fenced_blocks(markdown: str) -> list[Block]:
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("```"):
            index += 1
            continue
        start = index
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
        before = lines[start - 1].strip() if start > 0 else ""
        marker = before if before.startswith("<!--") else ""
        text = "".join(f"{line}\n" for line in lines[start + 1 : end])
        blocks.append(Block(lines[start][3:].strip(), text, start + 1, marker))
        index = end + 1
    return blocks


def sections(markdown: str, level: str) -> dict[str, str]:
    """Heading text -> the section's text up to the next heading of the same level."""
    parts = re.split(rf"(?m)^{level} ", markdown)[1:]
    return {part.split("\n", 1)[0].strip(): part for part in parts}


def run_console(console: Block, capsys: pytest.CaptureFixture[str]) -> tuple[str, str, int]:
    """Run the ``$ hamletc ...`` line of a console block in the current directory.

    Returns what the block shows after the command, what hamletc printed (standard
    error, then standard output, as a terminal shows them here) and the exit status.
    """
    command, _, shown = console.text.rstrip("\n").partition("\n")
    assert command.startswith("$ hamletc "), command
    status = main(shlex.split(command)[2:])
    out, err = capsys.readouterr()
    printed = "\n".join(line.rstrip() for line in (err + out).strip("\n").split("\n"))
    return shown, printed, status


# --- docs/errors.md ----------------------------------------------------------------------

ERROR_SECTIONS = {
    heading.split()[0]: text
    for heading, text in sections(ERRORS_MD, "###").items()
    if re.fullmatch(r"E\d{3} \S+", heading)
}


def test_errors_md_has_one_heading_per_code_with_its_name():
    headings = re.findall(r"(?m)^### (E\d{3}) (\S+)$", ERRORS_MD)
    assert len(headings) == len(set(headings)), "a code is documented twice"
    assert set(headings) == {(c.code, c.name) for c in CODES.values()}


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_error_section_shows_the_output_and_a_fix(code):
    text = ERROR_SECTIONS[code]
    consoles = [b for b in fenced_blocks(text) if b.lang == "console"]
    assert consoles, f"{code} shows no hamletc output"
    assert any(f"[{code}]" in b.text for b in consoles), f"{code}'s output lacks [{code}]"
    assert "**Fix:**" in text


def _error_examples() -> list[Any]:
    """A test case per re-runnable console block: (code, block), with an id like E103-2."""
    cases = []
    for code, text in sorted(ERROR_SECTIONS.items()):
        consoles = [b for b in fenced_blocks(text) if b.lang == "console"]
        for number, block in enumerate(consoles, 1):
            if not block.marker.startswith("<!-- output-not-checked"):
                cases.append(pytest.param(code, block, id=f"{code}-{number}"))
    return cases


@pytest.mark.parametrize(("code", "console"), _error_examples())
def test_error_output_in_the_docs_is_what_hamletc_prints(
    code, console, tmp_path, capsys, monkeypatch
):
    # The examples ran in a folder `my_brain` holding the section's YAML as brain.yaml
    # (the folder names the brain) and the L1 pack under configs/.
    workdir = tmp_path / "my_brain"
    shutil.copytree(
        pack_dir("L1_full_observability"), workdir / "configs" / "L1_full_observability"
    )
    brains = [b for b in fenced_blocks(ERROR_SECTIONS[code]) if b.lang == "yaml" and not b.marker]
    if brains:
        (workdir / "brain.yaml").write_text(brains[0].text, encoding="utf-8")
    monkeypatch.chdir(workdir)
    shown, printed, status = run_console(console, capsys)
    assert printed == shown
    assert status == (1 if re.search(r"(?m)^error\[", shown) else 0)


def test_the_e140_example_is_what_load_pack_reports(tmp_path, monkeypatch):
    pack = tmp_path / "my_pack"
    shutil.copytree(pack_dir("L1_full_observability"), pack)
    training = pack / "training.yaml"
    # The docs raise the cost of waiting above that of moving, on the line that sets it.
    text, count = re.subn(
        r"(?m)^    wait: \{energy: 0\.001\}.*$",
        "    wait: {energy: 0.01}",
        training.read_text(encoding="utf-8"),
    )
    assert count == 1
    training.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as info:
        load_pack("my_pack")
    assert info.value.code == "E140"
    assert render(info.value.errors[0]) in ERROR_SECTIONS["E140"]


# --- docs/brain.md: example brains -------------------------------------------------------


def _is_brain(block: Block) -> bool:
    if block.lang != "yaml" or block.marker == "<!-- not-a-brain -->":
        return False
    data = parse_yaml(block.text, f"docs/brain.md:{block.line}").data
    return "network" in data or "extends" in data


BRAIN_EXAMPLES = [b for b in fenced_blocks(BRAIN_MD) if _is_brain(b)]


def test_brain_md_has_example_brains_of_every_kind():
    text = "".join(b.text for b in BRAIN_EXAMPLES)
    assert {k for k in KINDS if re.search(rf"kind: {k}\b", text)} == set(KINDS)


def _obs_fields(source: BrainSource) -> set[str]:
    refs = [ref for node in source.spec.network.values() for ref in node.references()]
    return {ref.split(".", 1)[1] for ref in refs if ref.startswith("obs.")}


@pytest.mark.parametrize("block", BRAIN_EXAMPLES, ids=lambda b: f"line{b.line}")
def test_example_brain_compiles(block, tmp_path):
    # Lay the example out beside the shipped packs' brains, so that `extends:
    # ../L2_partial_observability/brain.yaml` finds its base as it does in configs/.
    for name in PACK_NAMES:
        (tmp_path / name).mkdir()
        shutil.copy(pack_dir(name) / "brain.yaml", tmp_path / name / "brain.yaml")
    path = tmp_path / "my_brain" / "brain.yaml"
    path.parent.mkdir()
    path.write_text(block.text, encoding="utf-8")
    source = load_brain(path)
    if source.spec.observation.fields is not None:
        layout = None
    else:
        fields = _obs_fields(source)
        layouts = [observation_layout(load_pack(pack_dir(name))) for name in EXAMPLE_WORLDS]
        layout = next((lay for lay in layouts if fields <= set(lay.names)), None)
        assert layout is not None, f"no example world has the fields {sorted(fields)}"
    brain = compile_brain(source, layout=layout)
    assert brain.warnings == []
    assert brain.instantiate().num_actions == brain.layout.num_actions


def _brain_md_consoles() -> list[Any]:
    return [
        pytest.param(block, id=f"line{block.line}")
        for block in fenced_blocks(BRAIN_MD)
        if block.lang == "console"
        and block.text.startswith("$ hamletc ")
        and block.text.count("\n") > 1
    ]


@pytest.mark.parametrize("console", _brain_md_consoles())
def test_brain_md_output_is_what_hamletc_prints(console, tmp_path, capsys, monkeypatch):
    if "my_pack" in console.text.split("\n", 1)[0]:
        # The worked example: a copy of the L1 pack holding the student's brain.yaml.
        shutil.copytree(pack_dir("L1_full_observability"), tmp_path / "my_pack")
        for block in fenced_blocks(BRAIN_MD):
            if block.marker.startswith("<!-- file: "):
                target = block.marker.removeprefix("<!-- file: ").removesuffix(" -->")
                (tmp_path / target).write_text(block.text, encoding="utf-8")
        monkeypatch.chdir(tmp_path)
    else:
        monkeypatch.chdir(REPO)  # the commands name the shipped packs as configs/<pack>
    shown, printed, status = run_console(console, capsys)
    assert printed == shown
    assert status == 0


# --- docs/brain.md: node kinds -----------------------------------------------------------

SCHEMA_DEFS = load_schema("brain")["$defs"]
# kind -> the $defs entry the schema checks it against (lstm and gru share `recurrent`)
SCHEMA_OF_KIND = {
    rule["if"]["properties"]["kind"]["const"]: rule["then"]["$ref"].rsplit("/", 1)[1]
    for rule in SCHEMA_DEFS["node"]["allOf"]
}
KIND_SECTIONS = sections(BRAIN_MD.split("\n## Node kinds\n", 1)[1].split("\n## ", 1)[0], "###")


def _keys(schema: dict[str, Any]) -> set[str]:
    """Every property name of ``schema``, nested options (projection, noisy, ...) included."""
    keys: set[str] = set()
    for name, sub in schema.get("properties", {}).items():
        keys.add(name)
        for branch in [sub, *sub.get("anyOf", [])]:
            keys |= _keys(branch)
    return keys


def _kind_section(kind: str) -> str:
    found = [
        text for heading, text in KIND_SECTIONS.items() if kind in re.findall(r"`(\w+)`", heading)
    ]
    assert len(found) == 1, f"docs/brain.md needs one `### ` section naming `{kind}`"
    return found[0]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_node_kind_and_key_is_documented(kind):
    text = _kind_section(kind)
    missing = sorted(
        key for key in _keys(SCHEMA_DEFS[SCHEMA_OF_KIND[kind]]) if f"`{key}`" not in text
    )
    assert not missing, f"the `{kind}` section of docs/brain.md never mentions {missing}"

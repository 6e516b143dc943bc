"""A wheel of the project installs and works on its own: every package, its data files and
both commands, in a fresh virtual environment that sees only the dependencies.

The fresh environment reaches the dependencies through a ``.pth`` line naming this
environment's site-packages. Python does not run the ``.pth`` files of a folder added
that way, so the editable install of the working tree stays out of sight, and the
test checks that every module it imports comes from the wheel.
"""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVELS = ("schemas", "compiler", "runtime", "configs")
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]

CHECK = """
import importlib, json, sys
from pathlib import Path
names = json.loads(sys.argv[1])
files = {n: importlib.import_module(n).__file__ for n in names}
from importlib.resources import files as data
from hamlet.schemas import load_pack, load_schema
from hamlet.runtime.viewer.app import ViewerApp
load_schema("brain"), load_pack("L3_temporal_mechanics")
css = data("hamlet.runtime.viewer") / ViewerApp.CSS_PATH
print(json.dumps({"files": files, "css": css.is_file()}))
"""


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    # Build from a copy of the sources: setuptools reuses a build/ folder, and one left in
    # the working tree would carry modules since deleted into the wheel.
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in TOP_LEVELS:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip"]
    run(*pip, "wheel", source, "--no-deps", "--no-build-isolation", "-q", "-w", folder, cwd=folder)
    (wheel,) = folder.glob("hamlet-*.whl")
    env = folder / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", env, cwd=folder)
    python = env / "bin" / "python"
    purelib = run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=folder
    )
    deps = [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]
    (Path(purelib.stdout.strip()) / "hamlet_test_deps.pth").write_text("\n".join(deps) + "\n")
    run(*pip, "--python", python, "install", "--no-deps", "-q", wheel, cwd=folder)
    return env


def test_every_package_imports_from_the_wheel_with_its_data(wheel_env, tmp_path):
    out = run(wheel_env / "bin" / "python", "-c", CHECK, json.dumps(PACKAGES), cwd=tmp_path)
    found = json.loads(out.stdout)
    assert sorted(found["files"]) == sorted(PACKAGES)
    for name, file in found["files"].items():
        assert Path(file).is_relative_to(wheel_env), f"{name} came from {file}, not the wheel"
    assert found["css"]


def test_both_commands_run_from_the_wheel(wheel_env, tmp_path):
    packs = run(wheel_env / "bin" / "hamlet", "packs", cwd=tmp_path)
    assert "L3_temporal_mechanics" in packs.stdout
    check = run(wheel_env / "bin" / "hamletc", "check", "simple_q", cwd=tmp_path)
    assert check.returncode == 0

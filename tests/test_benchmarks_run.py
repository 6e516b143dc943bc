"""The benchmarks in tools/bench run end to end (with tiny repeat counts) and print every
row and ratio of their tables; the times themselves are never asserted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BRAINS = ("simple_q", "recurrent_spatial_q")


def run_bench(script, *args):
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench" / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def latency_rows(lines):
    """(brain, batch, call) -> ratio, from rows ``brain batch call median p90 ratio``."""
    row = re.compile(r"^(\S+)\s+(\d+)\s+(.+?)\s+[\d.]+\s+[\d.]+\s+([\d.]+)x$")
    return {(m[1], int(m[2]), m[3]): float(m[4]) for line in lines if (m := row.match(line))}


def test_predict_bench_prints_forward_and_both_predicts_per_brain_and_batch():
    lines = run_bench("predict.py", "--repeats", "5", "--warmup", "1")
    assert "1 thread" in lines[0]
    assert lines[1].split() == ["brain", "batch", "call", "median", "p90", "x", "forward"]
    rows = latency_rows(lines)
    calls = ("forward", "predict", "predict eps+mask")
    assert set(rows) == {(b, n, c) for b in BRAINS for n in (1, 256) for c in calls}
    assert all(rows[(b, n, "forward")] == 1.0 for b in BRAINS for n in (1, 256))
    assert all(ratio > 0 for ratio in rows.values())
    assert lines[-1] == "target: greedy predict <= 1.3x forward at batch 1"


def test_onnx_bench_prints_torch_and_onnxruntime_per_brain_and_batch():
    lines = run_bench("onnx_latency.py", "--repeats", "5", "--warmup", "1")
    assert "onnxruntime" in lines[0] and "1 thread each" in lines[0]
    assert lines[1].split() == ["brain", "batch", "runtime", "median", "p90", "x", "torch"]
    rows = latency_rows(lines)
    runtimes = ("torch", "onnxruntime")
    assert set(rows) == {(b, n, r) for b in BRAINS for n in (1, 256) for r in runtimes}
    assert all(rows[(b, n, "torch")] == 1.0 for b in BRAINS for n in (1, 256))
    assert all(ratio > 0 for ratio in rows.values())


def test_checkpoint_bench_prints_sizes_and_ratios_of_every_file():
    lines = run_bench("checkpoint_size.py", "--repeats", "1")
    assert "1 thread" in lines[0]
    assert "synthetic random data of the real size and dtypes" in lines[1]
    assert lines[2].split()[:4] == ["pack", "brain", "file", "MB"]
    row = re.compile(
        r"^(\S+)\s+(\S+)\s+(inference|training|training, no replay)\s+([\d.]+)\s+([\d.]+)x"
        r"\s+[\d.]+\s+[\d.]+x\s+[\d.]+\s+[\d.]+x$"
    )
    sizes = {(m[1], m[3]): (float(m[4]), float(m[5])) for line in lines if (m := row.match(line))}
    packs = ("L1_full_observability", "L2_partial_observability")
    files = ("inference", "training", "training, no replay")
    assert set(sizes) == {(p, f) for p in packs for f in files}
    for pack in packs:
        assert sizes[(pack, "inference")][1] == 1.0
        # online + target + Adam's two moments: about four times the weights, more with replay
        assert sizes[(pack, "training, no replay")][1] >= 3.9
        assert sizes[(pack, "training")][0] > sizes[(pack, "training, no replay")][0]
    assert lines[-1].startswith("target: training checkpoint >= 5.0x")


def test_train_bench_prints_rates_ratios_and_where_the_time_goes():
    from hamlet.runtime.learning.phases import PHASES

    lines = run_bench("train.py", "--quick", "--agents", "1,2")
    assert "1 thread" in lines[0] and "L1 121-145, L2 48-55" in lines[1]
    assert lines[2].split()[-len(PHASES) - 4 : -4] == list(PHASES)
    row = re.compile(
        r"^(L[12])\s+(\d+)\s+([\d,]+)\s+([\d.]+)-([\d.]+)\s+(?:\d+x\s+)?([\d.]+)\s+([\d,]+)\s+\|(.*)$"
    )
    rows = {(m[1], int(m[2])): m for line in lines if (m := row.match(line))}
    assert set(rows) == {(p, n) for p in ("L1", "L2") for n in (1, 2)}
    for m in rows.values():
        rate = float(m[3].replace(",", ""))
        assert rate > 0 and float(m[4]) <= float(m[5])  # against 145 (or 55), then 121 (48)
        shares = [float(s.rstrip("%")) for s in m[8].split()[: len(PHASES)]]
        assert len(shares) == len(PHASES) and abs(sum(shares) - 100) <= len(PHASES)
        # the ceiling: the rate over the share of learning (learn + rnd), so above the rate
        learning = shares[PHASES.index("learn")] + shares[PHASES.index("rnd")]
        ceiling = float(m[7].replace(",", ""))
        assert ceiling >= rate
        if learning:  # (shares print rounded to a percent)
            assert ceiling == pytest.approx(rate * 100 / learning, rel=0.1, abs=2)


def test_train_bench_takes_gradient_steps_in_a_second_process_when_asked():
    lines = run_bench(
        "train.py", "--quick", "--agents", "1", "--packs", "L1", "--learner", "process"
    )
    assert "gradient steps in a second process" in lines[0]
    rows = [line for line in lines if line.startswith("L1 ")]
    assert len(rows) == 1 and float(rows[0].split()[2].replace(",", "")) > 0


def test_versions_bench_compares_a_revision_with_the_working_tree():
    def worktrees():
        listed = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True)
        return listed.stdout

    before = worktrees()
    lines = run_bench("versions.py", "HEAD", "--rounds", "1", "--seconds", "0.2", "--agents", "2")
    assert lines[0].startswith("L1_full_observability, 2 agent(s)")
    assert re.match(r"^round 1: before [\d,]+, after [\d,]+ agent-steps/s$", lines[1])
    assert re.match(r"^median: .* after / before = [\d.]+x \(rounds: [\d.]+-[\d.]+x\)$", lines[2])
    assert worktrees() == before  # the temporary checkout is gone again


def test_versions_bench_sets_a_setting_for_both_revisions():
    lines = run_bench(
        "versions.py", "HEAD", "--rounds", "1", "--seconds", "0.2", "--agents", "2",
        "--set", "learning.n_step=3",
    )  # fmt: skip
    assert lines[0].endswith(", --set learning.n_step=3")
    refused = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench" / "versions.py"), "HEAD", "--rounds", "1",
         "--seconds", "0.2", "--set", "learning.n_step=0"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 1
    assert (
        "n_step" in refused.stderr
        and "Traceback (most recent call last)" not in refused.stderr[-80:]
    )


def test_learning_bench_sweeps_compares_and_prints_the_targets_table(tmp_path):
    lines = run_bench(
        "learning.py", "--packs", "L0_0_minimal", "--seeds", "2", "--minutes", "0.03",
        "--out", str(tmp_path), "--plots", str(tmp_path / "plots"),
    )  # fmt: skip
    assert (tmp_path / "learning-L0_0_minimal-2s" / "manifest.json").is_file()
    assert (tmp_path / "plots" / "learning-L0_0_minimal.png").stat().st_size > 0
    header = next(i for i, line in enumerate(lines) if line.startswith("pack "))
    assert lines[header].split()[:4] == ["pack", "budget", "seeds", "IQM"]
    row = lines[header + 1].split()
    assert row[:4] == ["L0_0_minimal", "0.03", "min", "2"]
    assert row[-1] in ("yes", "NO") and "heuristic" in lines[header + 2]


def test_learning_bench_names_the_plot_extra_before_training_without_it(tmp_path):
    # matplotlib hidden from the benchmark's Python, as in a venv without the plot extra
    hide = (
        "import runpy, sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'matplotlib':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0] + '/learning.py', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", hide, str(ROOT / "tools" / "bench"), "--packs", "L0_0_minimal",
         "--out", str(tmp_path), "--plots", str(tmp_path / "plots")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "E303" in result.stderr and "pip install -e '.[plot]'" in result.stderr
    assert "Traceback" not in result.stderr and not list(tmp_path.iterdir())  # nothing ran


def test_render_bench_draws_and_writes_an_episode():
    lines = run_bench("render.py", "--quick", "--mp4")
    assert lines[0].startswith("L3_temporal_mechanics: a 20-step episode, frames of ")
    assert [line.split()[0] for line in lines[1:]] == ["draw", "gif", "mp4"]


def test_recurrent_bench_times_the_step_both_ways_windows_and_a_gradient_step_by_part():
    lines = run_bench("recurrent.py", "--repeats", "5", "--warmup", "1")
    assert lines[0].startswith("L2's LSTM(224->256)") and "1 thread" in lines[0]
    step = lines.index("one step (acting), microseconds per call:")
    window = next(i for i, line in enumerate(lines) if line.startswith("a window (learning)"))
    rows = [line.split() for line in lines[step + 2 : window]]
    assert [(r[0], r[1]) for r in rows] == [
        (b, c) for b in ("1", "16", "64") for c in ("kernel", "lstm_step")
    ]
    assert all(r[-1] == "1.00x" for r in rows if r[1] == "kernel")
    parts = next(i for i, line in enumerate(lines) if line.startswith("a gradient step by part"))
    lengths = [line.split()[0] for line in lines[window + 2 : parts]]
    assert lengths == ["1", "4", "8", "13"]
    rows = [line.split() for line in lines[parts + 2 :]]
    assert [r[0] for r in rows] == [
        "learn()", "sample", "target", "burn-in", "online+bwd", "optimizer", "rnd",
    ]  # fmt: skip
    assert rows[0][-1] == "1.00x" and all(float(r[1]) > 0 for r in rows)


def test_original_bench_refuses_a_folder_that_is_not_the_original(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench" / "original.py"), str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "not a checkout of the original" in result.stderr


@pytest.mark.skipif(
    "HAMLET_ORIGINAL" not in os.environ,
    reason="HAMLET_ORIGINAL: a checkout of the original system (tools/bench/original.py)",
)
def test_original_bench_trains_both_systems_and_prints_the_ratios():
    lines = run_bench(
        "original.py", os.environ["HAMLET_ORIGINAL"], "--pack", "L1", "--rounds", "1",
        "--seconds", "2", "--warmup", "1", "--agents", "1,2", "--learner", "inline,process",
    )  # fmt: skip
    assert lines[1].startswith("round 1: original ")
    ratios = [line for line in lines if "x the original" in line]
    assert [line.split(":")[0].strip() for line in ratios] == [
        f"ours, {n}, {learner}"
        for learner in ("inline", "process")
        for n in ("1 agent", "2 agents")
    ]


# What the lent GPU machine's PyTorch image holds of what HAMLET imports (its page in the
# device tool lists the image's packages); gpu.sh --wheels brings the rest.
GPU_IMAGE_HAS = {"torch", "numpy", "networkx", "attrs", "typing-extensions", "idna", "pytest",
                 "safetensors", "onnx", "onnxruntime", "pluggy", "iniconfig", "packaging",
                 "pygments", "hypothesis", "sortedcontainers", "filelock", "fsspec", "jinja2",
                 "markupsafe", "mpmath", "sympy", "setuptools"}  # fmt: skip


def _distribution(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_gpu_script_brings_every_package_its_runs_import_that_the_image_lacks():
    """``gpu.sh`` runs test_devices.py, env.py and train.py on a machine where only its
    wheels are added to the image: every distribution they import must be one or the other."""
    script = (ROOT / "tools" / "bench" / "gpu.sh").read_text()
    assert subprocess.run(["bash", "-n", str(ROOT / "tools" / "bench" / "gpu.sh")]).returncode == 0
    listed = re.search(r"PACKAGES=\((.*?)\)", script, re.S).group(1).split()
    probe = """
import importlib.util, json, sys
from importlib.metadata import packages_distributions
sys.path.insert(0, "tools/bench")
import env, train
import tests.runtime.test_devices
owners = packages_distributions()
print(json.dumps(sorted({d for m in list(sys.modules) for d in owners.get(m.split(".")[0], [])})))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    imported = {_distribution(d) for d in json.loads(result.stdout)} - {"hamlet"}
    missing = imported - GPU_IMAGE_HAS - {_distribution(p) for p in listed}
    assert not missing, f"add {sorted(missing)} to PACKAGES in tools/bench/gpu.sh"


def test_gemm_bench_prints_warm_and_cold_products_and_a_whole_step():
    lines = run_bench("gemm.py", "--repeats", "1")
    assert lines[0].startswith("L1, batch 64, 12 linear layers")
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "their products, warm (one after another)",
        "their products, cold (after 16 MiB read)",
        "a whole gradient step (learn, with RND)",
    ]

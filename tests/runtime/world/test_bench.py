"""tools/bench/env.py runs end to end and prints every row of its table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_env_bench_prints_a_rate_per_pack_and_agent_count():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench" / "env.py"), "--quick"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "1 thread" in lines[0]
    assert lines[1].split() == ["pack", "agents", "us/step", "agent-steps/s"]
    row = re.compile(r"^(\S+)\s+(\d+)\s+([\d.]+)\s+([\d,]+)$")
    rows = {
        (m[1], int(m[2])): int(m[4].replace(",", "")) for line in lines if (m := row.match(line))
    }
    packs = ("L1_full_observability", "L3_temporal_mechanics")
    assert set(rows) == {(p, n) for p in packs for n in (1, 64, 1024, 16384)}
    assert all(rate > 0 for rate in rows.values())
    assert lines[-1].startswith("target: >= 1,000,000 agent-steps/s at 1024 agents (L1, cpu): ")

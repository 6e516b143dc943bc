#!/usr/bin/env bash
# The speed issue's GPU figures in one call on a machine with a GPU (docs/PERFORMANCE.md#on-a-gpu).
#
#   bash tools/bench/gpu.sh --wheels [PYTHON_VERSION]
#       Here, with the project's .venv: download into .whl/ the wheels of the packages
#       HAMLET imports that a GPU machine's PyTorch image may lack (pydantic, jsonschema,
#       ruamel.yaml, websockets and what they need), at the versions installed here, for
#       CPython PYTHON_VERSION (default 3.12, the lent H200 machine's) on x86-64 Linux.
#   bash tools/bench/gpu.sh [SECONDS]
#       There, in the repository root, with .whl/ beside it: install those wheels into
#       /tmp/site (nothing else is installed), then run, with SECONDS per training row
#       (default 5):
#         1. tests/runtime/test_devices.py: the same steps on the CPU and on the GPU;
#         2. tools/bench/env.py --device cuda: the world alone, 1k to 64k agents;
#         3. tools/bench/train.py --device cuda: training, L1 and L2, 1k to 64k agents.
#       Everything printed is also written to $OUT/gpu.txt ($OUT, or ./gpu-out when
#       unset). About 5 minutes on an H200, most of it the 64k-agent rows. DEVICE and
#       AGENTS change the device and the agent counts: `DEVICE=cpu AGENTS=16,64 bash
#       tools/bench/gpu.sh 0.5` tries the whole script on a machine without a GPU.
#
# With the device tool: carry .whl, and run `bash tools/bench/gpu.sh` with a timeout
# that leaves room to run it again.
set -euo pipefail
cd "$(dirname "$0")/../.."

PACKAGES=(
    pydantic pydantic_core annotated-types typing-inspection
    jsonschema jsonschema-specifications referencing rpds-py jsonschema_rs
    ruamel.yaml ruamel.yaml.clib websockets
)

if [ "${1:-}" = "--wheels" ]; then
    python_version=${2:-3.12}
    pins=$(.venv/bin/python - "${PACKAGES[@]}" <<'EOF'
import sys
from importlib.metadata import version
print(" ".join(f"{name}=={version(name)}" for name in sys.argv[1:]))
EOF
    )
    mkdir -p .whl
    # shellcheck disable=SC2086  # one argument per pin
    .venv/bin/python -m pip download -q --no-deps --only-binary=:all: -d .whl \
        --python-version "$python_version" --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform any $pins
    ls .whl
    exit 0
fi

seconds=${1:-5}
out=${OUT:-gpu-out}
mkdir -p "$out"
exec > >(tee "$out/gpu.txt") 2>&1

if ! ls .whl/*.whl >/dev/null 2>&1; then
    echo "no wheels in .whl/: run 'bash tools/bench/gpu.sh --wheels' here first, then carry .whl"
    exit 1
fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
# The repository is the package `hamlet` (what `pip install -e .` maps): a link names it.
mkdir -p /tmp/pkg && ln -sfn "$PWD" /tmp/pkg/hamlet
# ... and its metadata, which checkpoints read their version from (pip would write it).
version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
mkdir -p "/tmp/site/hamlet-$version.dist-info"
printf 'Metadata-Version: 2.1\nName: hamlet\nVersion: %s\n' "$version" \
    >"/tmp/site/hamlet-$version.dist-info/METADATA"
export PYTHONPATH=/tmp/pkg:/tmp/site PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
device=${DEVICE:-cuda}
agents=${AGENTS:-1024,4096,16384,65536}
set -x
python3 -m pytest -q -p no:cacheprovider tests/runtime/test_devices.py
python3 tools/bench/env.py --device "$device" --agents "$agents"
python3 tools/bench/train.py --device "$device" --agents "$agents" --seconds "$seconds"

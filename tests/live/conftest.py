from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STREAM_SCHEMA = json.loads((ROOT / "schemas" / "stream.schema.json").read_text())

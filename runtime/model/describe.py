"""What a checkpoint holds, for people (``hamlet inspect``) and for programs (``--json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .hamlet_model import HamletModel


def describe_model(model: HamletModel, path: str | Path | None = None) -> dict[str, Any]:
    """Format, architecture, spec hash, size, metadata, observation layout and actions."""
    resolved = model.brain.resolved
    head = model.brain.resolved.head_spec
    return {
        "path": str(path) if path is not None else None,
        "format": model.source_format,
        "brain": resolved.spec.name,
        "architecture": {
            "recurrent": model.module.recurrent,
            "nodes": [
                {"name": n.name, "kind": n.kind, "output": list(n.output)} for n in resolved.nodes
            ],
            "head": {
                "name": resolved.head.name,
                "dueling": head.dueling,
                "distributional": head.distributional.model_dump()
                if head.distributional
                else False,
                "noisy": head.noisy.model_dump() if head.noisy else False,
            },
        },
        "spec_hash": model.spec_hash,
        "parameters": sum(p.numel() for p in model.module.parameters()),
        "observation": {
            "obs_dim": model.obs_dim,
            "fields": [
                {"name": f.name, "shape": list(f.shape), "slice": [f.offset, f.end]}
                for f in model.layout.fields
            ],
        },
        "actions": list(model.action_names),
        # the layout and the actions have their own entries above
        "metadata": {
            k: v
            for k, v in model.metadata.items()
            if k not in ("observation_layout", "action_names", "source_format")
        },
    }


def format_description(info: dict[str, Any]) -> str:
    """The description as aligned text."""
    arch, head = info["architecture"], info["architecture"]["head"]
    options = [name for name in ("dueling", "distributional", "noisy") if head[name]]
    nodes = ", ".join(f"{n['name']} ({n['kind']})" for n in arch["nodes"])
    fields = ", ".join(f"{f['name']} {f['shape']}" for f in info["observation"]["fields"])
    rows = [
        ("file", info["path"]),
        ("format", info["format"]),
        ("brain", info["brain"]),
        ("network", f"{arch['recurrent'] or 'feed-forward'}, {info['parameters']:,} parameters"),
        ("nodes", nodes),
        ("head", f"{head['name']}" + (f" ({', '.join(options)})" if options else " (plain)")),
        ("spec hash", info["spec_hash"]),
        ("observation", f"{info['observation']['obs_dim']} values: {fields}"),
        ("actions", ", ".join(info["actions"])),
    ]
    settings = info["metadata"].get("overrides")
    if settings:  # what --set changed, as it would be written again
        rows.append(("settings", " ".join(f"{k}={json.dumps(v)}" for k, v in settings.items())))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows if value is not None]
    if info["metadata"]:
        lines.append("metadata")
        lines += [f"  {key}: {value}" for key, value in sorted(info["metadata"].items())]
    return "\n".join(lines)

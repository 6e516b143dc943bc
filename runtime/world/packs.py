"""The shipped config packs as ``hamlet packs`` lists them: each one's world at a glance."""

from __future__ import annotations

from hamlet.configs import PACK_NAMES, pack_dir
from hamlet.runtime.text import text_table
from hamlet.schemas import load_pack, observation_layout


def format_packs(*, paths: bool = False) -> str:
    """A table of the shipped packs: grid, view, temporal mechanics, affordances,
    observation size and actions; with ``paths``, where each pack lives."""
    rows = [("pack", "grid", "view", "temporal", "affordances", "obs", "actions")]
    for name in PACK_NAMES:
        pack = load_pack(pack_dir(name))
        env = pack.training.environment
        layout = observation_layout(pack)
        width = 2 * env.vision_range + 1
        view = "full" if env.observability == "full" else f"{width}x{width} window"
        rows.append(
            (
                name,
                f"{env.grid_size}x{env.grid_size}",
                view,
                "on" if env.temporal_mechanics else "off",
                str(len(pack.deployed_affordances)),
                str(layout.obs_dim),
                str(layout.num_actions),
            )
        )
    lines = text_table(rows)
    if paths:
        lines += ["", *(f"{name}: {pack_dir(name)}" for name in PACK_NAMES)]
    return "\n".join(lines)

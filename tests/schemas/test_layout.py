"""The observation layout: offsets, sizes and its JSON form."""

from __future__ import annotations

from hamlet.schemas.layout import ACTION_NAMES, ObservationLayout


def test_fields_are_laid_out_in_order():
    layout = ObservationLayout.from_shapes({"grid": (5, 5), "position": (2,), "meters": (8,)}, 6)
    assert [(f.name, f.offset, f.end) for f in layout.fields] == [
        ("grid", 0, 25),
        ("position", 25, 27),
        ("meters", 27, 35),
    ]
    assert (layout.obs_dim, layout.num_actions, layout.action_names) == (35, 6, ACTION_NAMES)


def test_action_names_for_other_counts():
    assert ObservationLayout.from_shapes({"x": (3,)}, 2).action_names == ("action_0", "action_1")
    assert ObservationLayout.from_shapes({"x": (3,)}, ["a", "b"]).action_names == ("a", "b")


def test_round_trips_through_its_json_form():
    layout = ObservationLayout.from_shapes({"grid": (3, 3), "meters": (8,)}, 6)
    data = layout.to_dict()
    assert data == {
        "fields": [{"name": "grid", "shape": [3, 3]}, {"name": "meters", "shape": [8]}],
        "actions": list(ACTION_NAMES),
    }
    assert ObservationLayout.from_dict(data) == layout

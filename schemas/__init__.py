"""JSON Schemas of every HAMLET file format, and the loaders that enforce them.

This layer imports no torch: it reads YAML (keeping line and column), validates it
against the schemas in this folder, and reports every problem as a
:class:`~hamlet.schemas.errors.SpecError`.
"""

from .errors import (
    CODES,
    CheckpointError,
    Diagnostic,
    ExportError,
    HamletError,
    HamletWarning,
    RunError,
    SpecError,
    StorageError,
    UsageError,
    render,
)
from .layout import ACTION_NAMES, ObservationField, ObservationLayout, observation_layout
from .override import (
    COMMAND_LINE,
    Override,
    command_line_source,
    expand_grid,
    override_settings,
    override_texts,
    parse_grid,
    parse_override,
    parse_overrides,
)
from .pack import Pack
from .pack_loading import enclosing_pack, load_pack
from .source import YamlDocument, load_yaml, parse_yaml
from .validate import load_schema, parse_model, validate_document

__all__ = [
    "ACTION_NAMES",
    "CODES",
    "COMMAND_LINE",
    "CheckpointError",
    "Diagnostic",
    "ExportError",
    "HamletError",
    "HamletWarning",
    "ObservationField",
    "ObservationLayout",
    "Override",
    "Pack",
    "RunError",
    "SpecError",
    "StorageError",
    "UsageError",
    "YamlDocument",
    "command_line_source",
    "enclosing_pack",
    "expand_grid",
    "load_pack",
    "load_schema",
    "load_yaml",
    "observation_layout",
    "override_settings",
    "override_texts",
    "parse_grid",
    "parse_model",
    "parse_override",
    "parse_overrides",
    "parse_yaml",
    "render",
    "validate_document",
]

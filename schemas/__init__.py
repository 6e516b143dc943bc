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
from .pack import Pack
from .pack_loading import enclosing_pack, load_pack
from .source import YamlDocument, load_yaml, parse_yaml
from .validate import load_schema, parse_model, validate_document

__all__ = [
    "ACTION_NAMES",
    "CODES",
    "CheckpointError",
    "Diagnostic",
    "ExportError",
    "HamletError",
    "HamletWarning",
    "ObservationField",
    "ObservationLayout",
    "Pack",
    "RunError",
    "SpecError",
    "StorageError",
    "UsageError",
    "YamlDocument",
    "enclosing_pack",
    "load_pack",
    "load_schema",
    "load_yaml",
    "observation_layout",
    "parse_model",
    "parse_yaml",
    "render",
    "validate_document",
]

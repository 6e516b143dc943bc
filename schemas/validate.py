"""Check a :class:`YamlDocument` against a JSON Schema and a typed model.

JSON Schema (Draft 2020-12) is the contract editors see; the pydantic model gives
the code typed access. Both report through :class:`SpecError`, with every
diagnostic pointing at the key or value it is about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import jsonschema_rs
import pydantic
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from .errors import Diagnostic, SpecError, did_you_mean, suggestion
from .examples import example_value
from .scalars import scalar_problems
from .source import YamlDocument, _yaml_type, shown

M = TypeVar("M", bound=pydantic.BaseModel)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``schemas/<name>.schema.json`` (e.g. ``"brain"``)."""
    text = resources.files("hamlet.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A JSON Schema ``pattern`` compiled with the meaning ECMA-262 gives it.

    In ECMA-262 (which JSON Schema specifies, and jsonschema-rs follows) ``$`` matches
    only at the very end of the text; in Python it also matches before a final
    newline, so ``^[a-z]+$`` would accept ``"head\\n"``. Here every ``$`` outside a
    character class becomes ``\\Z``. Our schemas' patterns use nothing else on
    which the two dialects differ (a test keeps it so).

    >>> bool(ecma_regex("^[a-z]+$").search("head\\n"))
    False
    """
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            char = r"\Z"
        out.append(char)
    return re.compile("".join(out))


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = extend(Draft202012Validator, {"pattern": _ecma_pattern})
"""Draft 2020-12 as the Python ``jsonschema`` implements it, with ECMA-262 patterns."""


@cache
def _validator(name: str) -> Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return _Validator(schema)


@cache
def _fast_validator(name: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft202012Validator(load_schema(name))


def validate_document(doc: YamlDocument, schema_name: str) -> None:
    """Raise a :class:`SpecError` listing every way ``doc`` breaks the named schema
    (and every number that is not finite, and every text that is not plain)."""
    problems = scalar_problems(doc)
    if problems:
        raise SpecError(problems)
    # jsonschema-rs (Rust) answers "valid?" in microseconds, where the Python
    # implementation takes milliseconds; the Python one then explains any failure,
    # because its errors carry everything our diagnostics need.
    if _fast_validator(schema_name).is_valid(doc.data):
        return
    errors = sorted(_validator(schema_name).iter_errors(doc.data), key=lambda e: list(e.path))
    root = load_schema(schema_name)
    diagnostics = [d for error in errors for d in _diagnose(doc, error, root)]
    if not diagnostics:
        # The two validators disagree; refusing is safer than accepting what one rejects.
        diagnostics = [
            doc.diagnostic(
                "E114",
                f"the file does not follow the {schema_name} schema, but the cause "
                "could not be found",
                hint=f"compare the file with `hamletc schema {schema_name}`, and report "
                "this message to the HAMLET developers",
            )
        ]
    raise SpecError(diagnostics)


def parse_model(doc: YamlDocument, model: type[M], data: Any | None = None) -> M:
    """Build ``model`` from the document's data, mapping pydantic errors to places."""
    try:
        return model.model_validate(doc.data if data is None else data)
    except pydantic.ValidationError as exc:
        raise SpecError([_pydantic_diagnostic(doc, e) for e in exc.errors()]) from None


# --- jsonschema errors -> diagnostics ----------------------------------------------


def _diagnose(
    doc: YamlDocument, error: ValidationError, root: dict[str, Any]
) -> Iterator[Diagnostic]:
    path = list(error.absolute_path)
    kind = error.validator
    value = error.instance
    if "propertyNames" in error.absolute_schema_path:
        kind = "propertyNames"
    if kind in ("additionalProperties", "unevaluatedProperties"):
        allowed = _allowed_keys(error.schema)
        for extra in sorted(set(value) - set(allowed)):
            yield doc.diagnostic(
                "E110",
                f"unknown key '{extra}'" + (f" in '{_name(path)}'" if path else ""),
                [*path, extra],
                key=True,
                hint=suggestion(extra, allowed, what="keys")
                + " (remove the key if it is not meant to be here)",
            )
    elif kind == "required":
        extras = set(value) - set(_allowed_keys(error.schema))
        for missing in [k for k in error.validator_value if k not in value]:
            if did_you_mean(missing, extras):
                continue  # a misspelt key; its unknown-key error says all there is to say
            prop = error.schema.get("properties", {}).get(missing, {})
            example = example_value(prop, root)
            yield doc.diagnostic(
                "E111",
                f"missing required key '{missing}'" + (f" in '{_name(path)}'" if path else ""),
                path,
                key=True,
                hint=f"add `{missing}: {example}`",
            )
    elif kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        what = _describe(error.schema)
        yield doc.diagnostic(
            "E112",
            f"expected {_article(expected)}, found {_yaml_type(value)} {_show(value)}".rstrip(),
            path,
            hint=f"write {_article(expected)} here"
            + (f" ({what[0].lower()}{what[1:]})" if what else ""),
        )
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {
            "minimum": ">=",
            "maximum": "<=",
            "exclusiveMinimum": ">",
            "exclusiveMaximum": "<",
        }[kind]
        yield doc.diagnostic(
            "E113",
            f"{_show(value)} is out of range: it must be {bound} {error.validator_value}",
            path,
            hint=f"use a value {bound} {error.validator_value}",
        )
    elif kind in ("minItems", "maxItems", "minProperties", "maxProperties", "minLength"):
        bound = "at least" if kind.startswith("min") else "at most"
        unit = "character" if kind == "minLength" else "entr"
        yield doc.diagnostic(
            "E113",
            f"has {_count(len(value), unit)}; it needs {bound} {error.validator_value}",
            path,
            hint=f"give {bound} {_count(error.validator_value, unit)}",
        )
    elif kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        code = "E120" if path and path[-1] == "kind" and _is_node_path(path) else "E114"
        what = "node kind" if code == "E120" else "value"
        names = [str(a) for a in allowed]
        yield doc.diagnostic(
            code,
            f"unknown {what} {_show(value)}" if code == "E120" else f"invalid value {_show(value)}",
            path,
            hint=suggestion(str(value), names, what=f"{what}s"),
        )
    elif kind == "propertyNames":
        yield from _property_name_errors(doc, error, path)
    elif kind in ("anyOf", "oneOf"):
        yield from _alternative_errors(doc, error, path, root)
    elif kind == "pattern":
        yield doc.diagnostic(
            "E114",
            f"invalid value {_show(value)}",
            path,
            hint=_describe(error.schema) or f"it must match {error.validator_value}",
        )
    elif kind == "uniqueItems":
        yield doc.diagnostic("E114", "list entries must be unique", path, hint="remove repeats")
    else:
        yield doc.diagnostic("E114", error.message, path, hint=_describe(error.schema))


def _property_name_errors(
    doc: YamlDocument, error: ValidationError, path: list[Any]
) -> Iterator[Diagnostic]:
    name = error.instance
    yield doc.diagnostic(
        "E114",
        f"invalid name {_show(name)}" + (f" in '{_name(path)}'" if path else ""),
        [*path, str(name)],
        key=True,
        hint=_describe(error.schema)
        or "use lowercase letters, digits and underscores, starting with a letter",
    )


def _alternative_errors(
    doc: YamlDocument, error: ValidationError, path: list[Any], root: dict[str, Any]
) -> Iterator[Diagnostic]:
    """For ``anyOf``/``oneOf``: report the branch whose type fits the value, if any."""
    value_type = _json_type(error.instance)
    fitting = [
        e
        for e in (error.context or [])
        if e.validator != "type" and _branch_accepts_type(error, e, value_type)
    ]
    if fitting:
        for sub in fitting:
            yield from _diagnose(doc, sub, root)
        return
    forms = [_describe_branch(b) for b in error.validator_value]
    yield doc.diagnostic(
        "E112",
        f"unexpected {_yaml_type(error.instance)} {_show(error.instance)}".rstrip(),
        path,
        hint=_describe(error.schema) or "write one of: " + "; ".join(f for f in forms if f),
    )


def _branch_accepts_type(parent: ValidationError, sub: ValidationError, value_type: str) -> bool:
    branch = parent.validator_value[sub.relative_schema_path[0]]
    declared = branch.get("type")
    if declared is None:
        return "const" not in branch and "enum" not in branch
    declared = declared if isinstance(declared, list) else [declared]
    return value_type in declared or (value_type == "integer" and "number" in declared)


def _describe_branch(branch: dict[str, Any]) -> str:
    if "const" in branch:
        return json.dumps(branch["const"])
    if "enum" in branch:
        return " | ".join(json.dumps(v) for v in branch["enum"])
    return str(branch.get("type", "a value"))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _allowed_keys(schema: dict[str, Any]) -> list[str]:
    return list(schema.get("properties", {}))


def _is_node_path(path: list[Any]) -> bool:
    return len(path) >= 3 and path[0] == "network"


def _describe(schema: dict[str, Any]) -> str | None:
    text = schema.get("description")
    return text.split("\n")[0].rstrip(".") if text else None


def _name(path: Sequence[Any]) -> str:
    from .source import format_path

    return format_path(path)


def _count(n: int, unit: str) -> str:
    if unit == "entr":
        return f"{n} {'entry' if n == 1 else 'entries'}"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _article(word: str) -> str:
    names = {"object": "mapping", "array": "list", "null": "null"}
    word = " or ".join(names.get(w, w) for w in word.split(" or "))
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _show(value: Any) -> str:
    """A found value as a message quotes it: ``"三"`` as written, what cannot be printed
    (a right-to-left mark, say) as its escape."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = _yaml_type(value)
    else:
        text = shown(json.dumps(value, ensure_ascii=False))
    return text if len(text) <= 40 else text[:37] + "..."


# --- pydantic errors -> diagnostics ---------------------------------------------------


def _pydantic_diagnostic(doc: YamlDocument, error: Any) -> Diagnostic:
    loc = _data_path(doc.data, list(error["loc"]))
    kind = error["type"]
    if kind == "extra_forbidden":
        return doc.diagnostic("E110", f"unknown key '{loc[-1]}'", loc, key=True)
    if kind == "missing":
        return doc.diagnostic("E111", f"missing required key '{loc[-1]}'", loc[:-1], key=True)
    if kind == "int_parsing_size":  # a float such as 1e23 that no 64-bit integer holds
        return doc.diagnostic(
            "E113",
            f"{_show(error['input'])} is too large a number here",
            loc,
            hint="use a smaller whole number",
        )
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return doc.diagnostic("E112", error["msg"], loc)
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return doc.diagnostic("E113", error["msg"], loc)
    return doc.diagnostic("E114", error["msg"], loc)


def _data_path(data: Any, loc: list[Any]) -> list[Any]:
    """Drop the parts of a pydantic location that are not in the data (union tags)."""
    path: list[Any] = []
    for index, part in enumerate(loc):
        if _has(data, part):
            data = data[part]
        elif index == len(loc) - 1:
            path.append(part)
            break
        else:
            continue
        path.append(part)
    return path


def _has(data: Any, part: Any) -> bool:
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)

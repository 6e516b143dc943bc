"""What a JSON Schema cannot say about single values: numbers are finite, text is plain.

JSON Schema has no word for NaN (every comparison with it is false, so ``minimum: 0``
lets ``.nan`` through) and none for the characters a string may hold. Both matter
here: a NaN setting crashes or silently ruins a run much later, and text goes into
generated source code, JSON files, checkpoints and the terminal. So every number of
every file must be finite, and every text (keys included) must be printable Unicode:
no control characters other than tab, newline and carriage return, and no lone UTF-16
surrogates (which YAML's ``"\\ud800"`` escape can produce, and which no UTF-8 file can
hold). This runs before the schema, on the data of any file, whichever validator runs.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import Diagnostic
from .source import PathKey, YamlDocument

_NOT_PLAIN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters (Unicode category Cc) except tab, newline and carriage return,
and surrogates (category Cs)."""


def scalar_problems(doc: YamlDocument) -> list[Diagnostic]:
    """Every non-finite number and every text that is not plain in ``doc``, placed.

    >>> from hamlet.schemas.source import parse_yaml
    >>> [d.path for d in scalar_problems(parse_yaml("a: {b: [1, .nan]}"))]
    ['a.b[1]']
    """
    problems: list[Diagnostic] = []
    stack: list[tuple[PathKey, Any]] = [((), doc.data)]
    while stack:  # a loop, not recursion: the data may nest deeply
        path, value = stack.pop()
        if isinstance(value, dict):
            for key in value:
                if isinstance(key, str) and _NOT_PLAIN.search(key):
                    problems.append(_text_problem(doc, key, (*path, key), key=True))
            stack.extend(((*path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(_number_problem(doc, value, path))
        elif isinstance(value, str) and _NOT_PLAIN.search(value):
            problems.append(_text_problem(doc, value, path, key=False))
    return problems


def _number_problem(doc: YamlDocument, value: float, path: PathKey) -> Diagnostic:
    written = ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    return doc.diagnostic(
        "E114",
        f"{written} is not a finite number",
        path,
        hint="write a finite number: NaN and infinity are never valid settings",
    )


def _text_problem(doc: YamlDocument, text: str, path: PathKey, *, key: bool) -> Diagnostic:
    match = _NOT_PLAIN.search(text)
    assert match is not None
    char = ord(match.group())
    what = (
        f"U+{char:04X}, half of a UTF-16 surrogate pair, which is not a character"
        if 0xD800 <= char <= 0xDFFF
        else f"the control character U+{char:04X}"
    )
    return doc.diagnostic(
        "E114",
        f"{'the key' if key else 'text'} holds {what} (at character {match.start() + 1})",
        path,
        key=key,
        hint="remove it: text may hold tabs and newlines but no other control characters "
        "(look for `\\0`, `\\x..`, `\\u....` or `\\e` escapes in double quotes)",
    )

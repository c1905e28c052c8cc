"""JSON numbers must be finite: find the bare ``NaN``, ``Infinity`` and ``-Infinity`` tokens
that Python's ``json`` reads (they are not JSON) and the numbers too large for a float (``1e400``
reads as infinity), and where they are, so that a request or a document holding one is refused
naming the field, before any validation trips over them."""

from __future__ import annotations

import json
import math
import re
from typing import Any

Path = tuple[str | int, ...]

# What may be a non-finite number: the tokens, a three-digit exponent, or 300 digits in a row.
_SUSPECT = r"NaN|Infinity|[eE][+]?\d{3}|\d{300}"
_SUSPECT_TEXT = re.compile(_SUSPECT)
_SUSPECT_BYTES = re.compile(_SUSPECT.encode())


class NonFinite:
    """Stands for a non-finite number read by :func:`loads`; ``token`` is how it was written."""

    def __init__(self, token: str):
        self.token = token


def _float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def loads(data: bytes | str) -> Any:
    """``json.loads``, with every non-finite number read as a :class:`NonFinite` marker."""
    return json.loads(data, parse_constant=NonFinite, parse_float=_float)


def rule(token: str) -> str:
    """The message for a non-finite number: the rule, and the number (shortened)."""
    shown = token if len(token) <= 12 else f"{token[:12]}…"
    return f"Input should be a finite number, not {shown}"


def may_hold_non_finite(data: bytes | str) -> bool:
    """False when JSON text ``data`` surely holds no non-finite token (a quick scan)."""
    pattern = _SUSPECT_BYTES if isinstance(data, bytes) else _SUSPECT_TEXT
    return pattern.search(data) is not None


def find_non_finite(value: Any) -> tuple[Path, str] | None:
    """The path of the first :class:`NonFinite` marker (or non-finite float) in ``value``,
    in document order, and its token; None when every number is finite."""
    stack: list[tuple[Path, Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, NonFinite):
            return path, node.token
        if isinstance(node, float) and not math.isfinite(node):
            return path, json.dumps(node)
        if isinstance(node, dict):
            stack.extend(reversed([(path + (key,), item) for key, item in node.items()]))
        elif isinstance(node, list):
            stack.extend(reversed([(path + (i,), item) for i, item in enumerate(node)]))
    return None


def non_finite_in(data: bytes | str) -> tuple[Path, str] | None:
    """Where the first non-finite token of JSON text ``data`` is, and which; None when there
    is none, or when ``data`` is not JSON at all (the parser that follows says so)."""
    if not may_hold_non_finite(data):
        return None
    try:
        return find_non_finite(loads(data))
    except (ValueError, RecursionError):
        return None

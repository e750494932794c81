"""Go-compatible JSON.

Grafana is written in Go, and the collection's tests compare bodies byte for byte, so the
double must print JSON the way Go's ``encoding/json`` does and must accept request bodies
the way Grafana's ``web.Bind`` does (lenient in some places, strict in others).
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterable, Mapping, Optional

STRING = "string"
BOOL = "bool"
INT64 = "int64"
OBJECT = "object"

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# Go's encoder escapes these even inside strings (SetEscapeHTML defaults to true).
_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_HTML_RE = re.compile("[<>&\u2028\u2029]")


class BindError(ValueError):
    """The body could not be bound: Grafana answers such requests with 400 Bad request data."""


def _go_numbers(value: Any) -> Any:
    """Print integral floats without ``.0`` (Go prints ``float64(3)`` as ``3``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {key: _go_numbers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_go_numbers(item) for item in value]
    return value


def marshal(value: Any, indent: Optional[int] = None) -> str:
    """Return ``json.Marshal`` (or ``json.MarshalIndent`` with two spaces) output for value.

    Key order is the caller's dict order: pass struct fields in struct order and maps
    through :func:`sorted_map`, exactly as Go would order them.
    """
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(
        _go_numbers(value),
        ensure_ascii=False,
        separators=separators,
        indent=indent,
        allow_nan=False,
    )
    return _HTML_RE.sub(lambda match: _HTML_ESCAPES[match.group()], text)


def sorted_map(mapping: Mapping[str, Any]) -> Dict[str, Any]:
    """Order keys like Go marshals a ``map[string]any``: sorted."""
    return dict(sorted(mapping.items()))


def _reject_constant(name: str) -> None:
    raise BindError(f"invalid JSON literal {name}")


def decode_first_value(body: bytes) -> Any:
    """Decode the first JSON value like ``json.NewDecoder(body).Decode``.

    An empty body is Go's ``io.EOF``, which ``web.Bind`` tolerates (returns ``None``);
    anything after the first value is ignored, as Go's decoder does.
    """
    text = body.decode("utf-8", "replace").lstrip(" \t\r\n")
    if not text:
        return None
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    try:
        value, _end = decoder.raw_decode(text)
    except json.JSONDecodeError as exc:
        raise BindError(str(exc)) from exc
    return value


def _field_for(key: str, fields: Mapping[str, str]) -> Optional[str]:
    """Match a JSON key to a struct field; Go falls back to a case-insensitive match."""
    if key in fields:
        return key
    folded = key.casefold()
    return next((name for name in fields if name.casefold() == folded), None)


def _coerce(name: str, value: Any, kind: str) -> Any:
    """Type-check one value as Go's decoder would for the field's Go type."""
    if kind == STRING and isinstance(value, str):
        return value
    if kind == BOOL and isinstance(value, bool):
        return value
    if kind == OBJECT and isinstance(value, dict):
        return value
    if kind == INT64 and isinstance(value, int) and not isinstance(value, bool):
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
    raise BindError(f"cannot unmarshal {type(value).__name__} into field {name} of type {kind}")


def bind(body: bytes, fields: Mapping[str, str], required: Iterable[str] = ()) -> Dict[str, Any]:
    """Bind a JSON body onto a struct made of ``fields`` (name -> kind).

    Returns only the fields present with a non-null value (Go pointer fields stay nil
    otherwise). ``required`` mirrors ``binding:"Required"``: the zero value is an error.
    """
    data = decode_first_value(body)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BindError("cannot unmarshal non-object into struct")
    bound: Dict[str, Any] = {}
    for key, value in data.items():
        name = _field_for(key, fields)
        if name is not None and value is not None:
            bound[name] = _coerce(name, value, fields[name])
    for name in required:
        if not bound.get(name):
            raise BindError(f"required value {name} must not be empty")
    return bound


def parse_int64(text: Optional[str]) -> Optional[int]:
    """``strconv.ParseInt(text, 10, 64)``: None when Go would return an error."""
    if text is None or not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def parse_bool(text: Optional[str]) -> bool:
    """``strconv.ParseBool`` where an error counts as false (``c.QueryBool``)."""
    return text in ("1", "t", "T", "TRUE", "true", "True")

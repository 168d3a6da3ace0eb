"""Sugar's request parsing: PHP bracket query strings, form and multipart posts, JSON bodies."""

from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson

from connectors.sugarcrm.emulator.errors import SugarError
from connectors.sugarcrm.emulator.store import FileData

__all__ = ["decode_json", "parse_multipart", "php_query", "php_query_string"]

_BRACKETS = re.compile(r"\[([^\]]*)\]")
MAX_DEPTH = 32  # RestService decodes JSON with this nesting limit
BAD_JSON = "Could not decode the JSON request body"


def _key(part: str) -> str | int:
    return int(part) if re.fullmatch(r"-?\d+", part) and part == str(int(part)) else part


def php_query(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """What PHP puts in $_GET: `a[0][b][]=x` builds nested arrays (dicts here), `[]` appends."""
    out: dict[Any, Any] = {}
    for raw_key, value in pairs:
        base, sep, rest = raw_key.partition("[")
        if not base:
            continue
        parts = _BRACKETS.findall(sep + rest) if sep else []
        if not parts:
            out[base] = value
            continue
        node = out.setdefault(base, {})
        if not isinstance(node, dict):
            node = out[base] = {}
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                ints = [k for k in node if isinstance(k, int)]
                key: str | int = max(ints) + 1 if ints else 0
            else:
                key = _key(part)
            if last:
                node[key] = value
            else:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = node[key] = {}
                node = child
    return {k: _listify(v) for k, v in out.items()}  # $_GET itself stays keyed


def _listify(node: Any) -> Any:
    """Arrays keyed 0..n-1 become lists, so they read like the JSON form of the same filter."""
    if not isinstance(node, dict):
        return node
    fixed = {k: _listify(v) for k, v in node.items()}
    if fixed and list(fixed) == list(range(len(fixed))):
        return list(fixed.values())
    return fixed


def php_query_string(query: str) -> dict[str, Any]:
    return php_query(parse_qsl(query, keep_blank_values=True))


def _depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level - 1


def decode_json(raw: bytes | str) -> Any:
    """json_decode with Sugar's 422 on bad input (any Content-Type)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SugarError(422, "invalid_parameter", BAD_JSON) from exc
    if _depth(value) > MAX_DEPTH:
        raise SugarError(422, "invalid_parameter", BAD_JSON)
    return value


def parse_multipart(raw: bytes, content_type: str) -> tuple[dict[str, Any], dict[str, FileData]]:
    """Form fields and file parts of a multipart/form-data body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    fields: list[tuple[str, str]] = []
    files: dict[str, FileData] = {}
    if not message.is_multipart():
        return {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = FileData(filename, part.get_content_type(), data)
        else:
            fields.append((name, data.decode("utf-8", "replace")))
    return php_query(fields), files

"""Reading the config file: YAML, ${VAR} expansion, validation; problems named by file and key."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gateway.config.model import GatewayConfig, error_reason

__all__ = [
    "ConfigError",
    "build_config",
    "expand_env",
    "format_path",
    "load_config",
    "load_config_text",
    "parse_yaml",
]

# `$${` is a literal `${`; `${NAME}` / `${NAME:-default}`; a lone `${` never closed is an error.
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME_DEFAULT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)
_MERGE_TAG = "tag:yaml.org,2002:merge"
# YAML forbids `{` and `}` in plain scalars inside flow mappings, yet the documented shape writes
# `auth: {password: ${SUGAR_PASSWORD}}`. So the braces of each reference are swapped for two
# private-use characters before parsing (same length: line and column numbers stay true) and
# swapped back in every parsed string.
_BRACED = re.compile(r"\$\{[^{}\n]*\}")
_OPEN, _CLOSE = "\ue000", "\ue001"
_UNSHIELD = str.maketrans({_OPEN: "{", _CLOSE: "}"})


class ConfigError(Exception):
    """The config cannot be used; ``problems`` are (key path, reason) pairs, all found at once."""

    def __init__(self, file: str, problems: Sequence[tuple[str, str]]) -> None:
        self.file = file
        self.problems = list(problems)
        super().__init__(file, self.problems)

    def __str__(self) -> str:
        return "\n".join(
            f"{self.file}: {path}: {reason}" if path else f"{self.file}: {reason}"
            for path, reason in self.problems
        )


def format_path(loc: Sequence[str | int]) -> str:
    """``("consumers", 0, "apiKey")`` → ``consumers[0].apiKey``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _StrictLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """SafeLoader refusing a key given twice in one mapping (the later would win silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[tuple[str, str], yaml.Node] = {}
    for key_node, _ in node.value:
        # Keys brought in by `<<: *anchor` may be overridden on purpose; only explicit keys count.
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
            continue
        key = (key_node.tag, key_node.value)
        if key in seen:
            first = seen[key].start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"duplicate key {key_node.value!r} (first given on line {first})",
                key_node.start_mark,
            )
        seen[key] = key_node
    mapping: dict[Any, Any] = loader.construct_mapping(node)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _shield(match: re.Match[str]) -> str:
    return f"${_OPEN}{match.group(0)[2:-1]}{_CLOSE}"


def _unshield(data: Any) -> Any:
    if isinstance(data, str):
        return data.translate(_UNSHIELD)
    if isinstance(data, dict):
        return {_unshield(key): _unshield(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_unshield(value) for value in data]
    return data


def parse_yaml(text: str, name: str) -> Any:
    """YAML text → plain data; syntax errors and duplicate keys name the line and column."""
    shielded = _OPEN not in text and _CLOSE not in text
    if shielded:
        text = _BRACED.sub(_shield, text)
    try:
        # A SafeLoader subclass: plain data only, never arbitrary Python objects.
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(name, [(where, f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(name, [("", f"invalid YAML: {exc}")]) from None
    return _unshield(data) if shielded else data


def _expand_string(
    text: str, env: Mapping[str, str], path: str, problems: list[tuple[str, str]]
) -> str:
    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$${":
            return "${"
        inner = match.group(1)
        if inner is None:
            problems.append((path, "'${' is never closed by '}' (write '$${' for a literal '${')"))
            return whole
        ref = _NAME_DEFAULT.fullmatch(inner)
        if ref is None:
            problems.append(
                (path, f"bad variable reference {whole!r}: use ${{NAME}} or ${{NAME:-default}}")
            )
            return whole
        var, default = ref.group(1), ref.group(2)
        value = env.get(var)
        if default is not None and not value:  # as in sh, ${VAR:-x} also replaces an empty VAR
            return default
        if value is None:
            problems.append((path, f"environment variable {var} is not set"))
            return whole
        return value

    return _REFERENCE.sub(replace, text) if "${" in text else text


def expand_env(
    data: Any,
    env: Mapping[str, str],
    problems: list[tuple[str, str]],
    loc: tuple[str | int, ...] = (),
) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string value (keys are left alone)."""
    if isinstance(data, str):
        return _expand_string(data, env, format_path(loc), problems)
    if isinstance(data, dict):
        return {
            key: expand_env(value, env, problems, (*loc, str(key))) for key, value in data.items()
        }
    if isinstance(data, list):
        return [expand_env(value, env, problems, (*loc, i)) for i, value in enumerate(data)]
    return data


def build_config(data: Any, name: str, env: Mapping[str, str]) -> GatewayConfig:
    """Parsed YAML → expanded, validated config, or a ConfigError listing every problem."""
    if data is None:
        raise ConfigError(name, [("", "the file is empty")])
    if not isinstance(data, dict):
        raise ConfigError(
            name, [("", "the top level must be a mapping (server, consumers, sources, orgs)")]
        )
    problems: list[tuple[str, str]] = []
    expanded = expand_env(data, env, problems)
    if problems:
        # Validation of half-expanded values would only add noise; report the variables first.
        raise ConfigError(name, problems)
    try:
        return GatewayConfig.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError(
            name,
            [
                (format_path(err["loc"]), error_reason(err))
                for err in exc.errors(include_url=False, include_input=False)
            ],
        ) from None


def load_config_text(
    text: str, name: str = "<config>", env: Mapping[str, str] | None = None
) -> GatewayConfig:
    """Like :func:`load_config`, from a string; ``name`` is what errors call the file."""
    environ = dict(os.environ) if env is None else env
    return build_config(parse_yaml(text, name), name, environ)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> GatewayConfig:
    """Read, expand and validate a config file; ``env`` defaults to the process environment.

    This is the only place the gateway reads ``os.environ``; call it before the event loop starts.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(name, [("", f"cannot read the file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(name, [("", f"not UTF-8 text: {exc.reason}")]) from None
    return load_config_text(text, name, env)

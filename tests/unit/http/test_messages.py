"""The message catalogs as data: the locale files agree with en-US, every key the code raises
is in the catalog, and no code raises English (outside the transition allow-list).

The code is read with ``ast``: a key is the literal a raiser passes where an error class,
``Detail`` or ``Message`` takes its key (the first argument, ``Detail``'s second, or ``key=``),
or where a helper that forwards its ``key`` parameter to one of those takes it.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gateway import errors
from gateway.i18n import CATALOGS, DEFAULT_LOCALE, KEYS, LOCALES, MESSAGES_DIR

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("gateway", "connectors", "examples")
ENGLISH = CATALOGS[DEFAULT_LOCALE]


def _placeholders(template: str) -> set[str]:
    """``{id!r}`` → ``id!r``: a translation keeps each name and its conversion."""
    return {name + (f"!{conv}" if conv else "")
            for _, name, _, conv in string.Formatter().parse(template) if name}


# --- the files -----------------------------------------------------------------------------------

def test_locales_are_the_files_present_with_english_first() -> None:
    assert LOCALES[0] == DEFAULT_LOCALE
    assert set(LOCALES) == {p.stem for p in MESSAGES_DIR.glob("*.yaml")}
    assert {"en-US", "zh-CN", "ja-JP", "es-ES"} <= set(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_each_file_is_a_flat_mapping_without_repeated_keys(locale: str) -> None:
    text = (MESSAGES_DIR / f"{locale}.yaml").read_text(encoding="utf-8")
    node = yaml.compose(text)
    assert isinstance(node, yaml.MappingNode)
    keys = [k.value for k, _ in node.value]
    assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]
    assert all(isinstance(v, yaml.ScalarNode) for _, v in node.value)


@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != DEFAULT_LOCALE])
def test_every_locale_has_exactly_the_english_keys_and_placeholders(locale: str) -> None:
    own = CATALOGS[locale]
    assert sorted(set(ENGLISH) - set(own)) == [], "missing"
    assert sorted(set(own) - set(ENGLISH)) == [], "not in en-US"
    differ = {k: (ENGLISH[k], own[k]) for k in ENGLISH
              if _placeholders(own[k]) != _placeholders(ENGLISH[k])}
    assert differ == {}
    # Translated, not copied: a few are the same in every language (a bare placeholder).
    untranslated = [k for k in ENGLISH if own[k] == ENGLISH[k] and _words(ENGLISH[k])]
    assert untranslated == []


def _words(template: str) -> bool:
    return any(c.isalpha() for literal, *_ in string.Formatter().parse(template)
               for c in literal)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_can_be_filled(locale: str) -> None:
    for template in CATALOGS[locale].values():
        names = {p.split("!")[0] for p in _placeholders(template)}
        assert template.format(**dict.fromkeys(names, "x"))


def test_every_error_class_has_its_message() -> None:
    ids = {cls.error for cls in vars(errors).values()
           if isinstance(cls, type) and issubclass(cls, errors.GatewayError)}
    assert sorted(ids - KEYS) == []


# --- the code ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Use:
    """One place the code names a message: ``key`` when a literal, ``english`` when it passes
    text instead (an f-string, a literal that is no key, or one of the legacy forms)."""

    where: str
    key: str | None
    english: str | None


def _files() -> Iterator[tuple[str, ast.Module]]:
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            # Emulators speak for the backends, in the backends' own words: not the gateway's.
            if "__pycache__" not in path.parts and "emulator" not in path.parts:
                rel = path.relative_to(ROOT).as_posix()
                yield rel, ast.parse(path.read_text(encoding="utf-8"), rel)


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _positional(fn: Function) -> list[str]:
    names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    return names[1:] if names[:1] in (["self"], ["cls"]) else names


@dataclass(frozen=True)
class Taker:
    """Where a callable takes its message key: position, and whether ``key=`` names it (not
    when ``key`` is positional-only and ``key=`` goes to ``**params``)."""

    at: int
    keyword: bool = True


def _taker(fn: Function) -> Taker:
    return Taker(_positional(fn).index("key"),
                 keyword="key" not in [a.arg for a in fn.args.posonlyargs])


def _takers(modules: list[tuple[str, ast.Module]]) -> dict[str, Taker]:
    """Callable name → where it takes its message key: the error classes, Detail, Message,
    and every function or class whose ``key`` parameter reaches one of them."""
    takers = {"GatewayError": Taker(0), "BackendFailure": Taker(0), "Detail": Taker(1),
              "Message": Taker(0)}
    classes: dict[str, tuple[list[str], ast.FunctionDef | None]] = {}
    functions: list[Function] = []
    for _, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                init = next((f for f in node.body if isinstance(f, ast.FunctionDef)
                             and f.name == "__init__"), None)
                classes[node.name] = ([b for b in map(_name, node.bases) if b], init)
            elif isinstance(node, Function) and "key" in _positional(node):
                functions.append(node)
    changed = True
    while changed:
        changed = False
        for name, (bases, init) in classes.items():
            if name in takers:
                continue
            inherited = next((takers[b] for b in bases if b in takers), None)
            if inherited is None:
                continue
            if init is None:
                takers[name], changed = inherited, True
            elif "key" in _positional(init) and _forwards(init, takers):
                takers[name], changed = _taker(init), True
        for fn in functions:
            if fn.name not in takers and _forwards(fn, takers):
                takers[fn.name], changed = _taker(fn), True
    return takers


def _forwards(fn: Function, takers: dict[str, Taker]) -> bool:
    """Whether ``fn`` passes its ``key`` parameter on as a message key."""
    for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
        taker = takers.get(_name(call.func) or "")
        if taker is None:
            continue
        given = [kw.value for kw in call.keywords if kw.arg == "key" and taker.keyword]
        given += call.args[taker.at:taker.at + 1]
        if any(isinstance(v, ast.Name) and v.id == "key" for v in given):
            return True
    return False


def _uses() -> list[Use]:
    modules = list(_files())
    takers = _takers(modules)
    found: list[Use] = []
    for rel, tree in modules:
        found += _named_keys(rel, tree)
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = _name(call.func)
            taker = takers.get(name or "")
            if taker is None:
                continue
            where = f"{rel}:{call.lineno}"
            keyword = {kw.arg: kw.value for kw in call.keywords}
            arg = call.args[taker.at] if len(call.args) > taker.at else None
            key_kw = keyword.get("key") if taker.keyword else None
            if name == "Detail" and ("msg" in keyword or len(call.args) > 3 or (
                    len(call.args) == 3 and isinstance(call.args[2], ast.Constant))):
                found.append(Use(where, None, ast.unparse(call)))  # Detail(path, "English", key)
                continue
            if arg is not None and key_kw is not None:  # Error("English", key=...)
                found.append(Use(where, None, ast.unparse(arg)))
                arg = None
            for value in (arg, key_kw):
                if isinstance(value, ast.JoinedStr):
                    found.append(Use(where, None, ast.unparse(value)))
                elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                    text = value.value
                    shaped = text.isidentifier() and text == text.lower()
                    found.append(Use(where, text if shaped else None,
                                     None if shaped else text))
    return found


def _named_keys(rel: str, tree: ast.Module) -> list[Use]:
    """Keys held for later by a name ending in ``_key``: ``failure_key: str = "..."`` in a
    dataclass, ``renewed_key="..."`` given to one."""
    found = []
    for node in ast.walk(tree):
        pairs: list[tuple[str | None, ast.expr | None]] = []
        if isinstance(node, ast.Call):
            pairs = [(kw.arg, kw.value) for kw in node.keywords]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            pairs = [(node.target.id, node.value)]
        for name, value in pairs:
            if (name or "").endswith("_key") and isinstance(value, ast.Constant) and isinstance(
                    value.value, str):
                found.append(Use(f"{rel}:{node.lineno}", value.value, None))
    return found


USES = _uses()


def test_the_scan_sees_the_raisers() -> None:
    keys = {u.key for u in USES}
    # an error class, a Detail, the parser's Problems.add and a helper class
    assert {"unknown_source", "bad_operator", "unknown_key", "bad_bulk_url"} <= keys


def test_every_key_the_code_names_is_in_the_english_catalog() -> None:
    missing = sorted(f"{u.where}: {u.key}" for u in USES if u.key and u.key not in KEYS)
    assert missing == []


def test_the_transport_table_names_catalog_keys() -> None:
    from gateway.upstream.errors import _TABLE

    assert sorted({row[-1] for row in _TABLE} - KEYS) == []


def test_no_code_raises_english() -> None:
    """The catalog is the only source of English: every raiser passes a key."""
    english = sorted(f"{u.where}: {u.english}" for u in USES if u.english is not None)
    assert english == []

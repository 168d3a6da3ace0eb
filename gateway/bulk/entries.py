"""One bulk entry → what its call alone would be: URL checks, identity, body, route.

An entry is checked as a request would be (a gateway path with the outer call's ``orgId``, a
method, a JSON body) and matched against the app's own routes, so it names the same operation
and path parameters as the call sent alone; ``gateway/bulk/executor.py`` then runs it through
the records service. What cannot be such a call is refused for that entry with a 400
(:class:`Refused`): absolute URLs, ``..`` or encoded separators, the bulk endpoint itself,
unknown methods, data that is not JSON, another identity or org.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

import orjson
from aiohttp import hdrs, web
from multidict import CIMultiDict, MultiDictProxy
from yarl import URL

from gateway.bulk.model import EntrySpec
from gateway.errors import Detail, InvalidRequest
from gateway.http.keys import STATE, RequestState
from gateway.i18n import Message, UnknownLocale, parse_locale

__all__ = ["API_PREFIX", "BULK_ROUTE", "METHODS", "Entry", "Refused", "Router", "prepare"]

API_PREFIX = "/v1"
BULK_ROUTE = "bulk.run"
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# Routes that stream bytes to or from the caller's connection cannot be carried in a JSON batch.
STREAMED_PREFIX = "files."
EXPORT_ROUTE = "records.export"  # streams records: an export is called alone
# Set by the gateway for the entry, never taken from it (framing, identity, request id).
_OWN_HEADERS = frozenset({
    "authorization", "content-length", "transfer-encoding", "host", "connection", "expect",
    "upgrade", "te", "keep-alive", "x-request-id",
})
_MAX_DECODES = 4  # %252e%252e and the like: refuse rather than peel layers forever
# Spaces, control characters, backslashes and fragments: never in a plain gateway path.
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\#]")
_VARIABLE = re.compile(r"\{(\w+)\}")


class Refused(InvalidRequest):
    """An entry that cannot be run as a call: 400 for that entry, the batch goes on."""

    def __init__(self, index: int, where: str, key: str, **params: Any) -> None:
        path = f"requests[{index}].{where}"
        super().__init__(key, params, details=[Detail(path, key, params)])


@dataclass(slots=True)
class Entry:
    """An entry ready to run: the call it stands for, as its route and inputs."""

    index: int
    method: str
    route: str  # the matched route's name ("" when none matched: 404, or 405 with ``allowed``)
    match: dict[str, str]  # the path's parameters, decoded
    path: str  # decoded, as a request's ``path``
    query: MultiDictProxy[str]  # the query string, orgId included
    body: bytes
    headers: CIMultiDict[str]
    locale: str
    locale_asked: str | None  # the raw `locale` parameter, when it was not understood
    allowed: frozenset[str] = frozenset()

    @property
    def source(self) -> str | None:
        return self.match.get("source")

    @property
    def entity(self) -> str | None:
        return self.match.get("entity")

    @property
    def is_read(self) -> bool:
        return self.method == "GET" or self.route == "records.query"


class Router:
    """The app's routes as patterns over a decoded path, matched as aiohttp's router matches
    them: in the order they were added, the first whose path and method match; when only the
    path matches, the methods that would have (405)."""

    def __init__(self, routes: tuple[tuple[str, str, str], ...]) -> None:
        self._routes: list[tuple[re.Pattern[str], str, str]] = []
        for method, canonical, name in routes:
            pattern = "".join(
                f"(?P<{part}>[^{{}}/]+)" if i % 2 else re.escape(part)
                for i, part in enumerate(_VARIABLE.split(canonical))
            )
            self._routes.append((re.compile(pattern), method, name))

    @classmethod
    def of(cls, app: web.Application) -> Router:
        return _router(tuple((r.method, r.resource.canonical, r.name or "")
                             for r in app.router.routes() if r.resource is not None))

    def match(self, method: str, path: str) -> tuple[str, dict[str, str], frozenset[str]]:
        """(route name, path parameters, methods allowed when no route name)."""
        allowed: set[str] = set()
        for pattern, route_method, name in self._routes:
            found = pattern.fullmatch(path)
            if found is None:
                continue
            if route_method == method:
                return name, found.groupdict(), frozenset()
            allowed.add(route_method)
        return "", {}, frozenset(allowed)


@lru_cache(maxsize=8)
def _router(routes: tuple[tuple[str, str, str], ...]) -> Router:
    return Router(routes)


def _check_path(index: int, url: str) -> tuple[str, str]:
    """``url`` → (path with the /v1 prefix, raw query string); Refused when it is not a plain
    gateway path."""
    def refuse(key: str) -> Refused:  # the reason, a message key
        return Refused(index, "url", "bad_bulk_url", reason=Message(key))

    if not url.startswith("/") or url.startswith("//"):
        raise refuse("bulk_url_absolute")
    if _BAD_CHARS.search(url):
        raise refuse("bulk_url_bad_chars")
    path, _, query = url.partition("?")
    stage = path
    for _ in range(_MAX_DECODES):
        if any(seg in (".", "..") for seg in stage.split("/")) or "\\" in stage:
            raise refuse("bulk_url_dot_segment")
        decoded = unquote(stage)
        if decoded == stage:
            break
        if decoded.count("/") != stage.count("/") or "\\" in decoded:
            raise refuse("bulk_url_encoded_separator")
        stage = decoded
    else:
        raise refuse("bulk_url_too_encoded")
    if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
        path = API_PREFIX + path
    return path, query


def _body(index: int, spec: EntrySpec) -> bytes:
    """``data`` as the entry's body: a JSON string (as Sugar sends it) or any JSON value."""
    data = spec.data if spec.has_data else None
    if data is None:
        return b""
    if isinstance(data, str):
        if not data.strip():
            return b""
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise Refused(index, "data", "bad_bulk_data", error=str(exc)) from None
        return data.encode()
    return orjson.dumps(data)


def _locale(url: URL, outer: RequestState) -> tuple[str, str | None]:
    raw = url.query.get("locale") if "locale" in url.raw_query_string else None
    if raw is None:
        return outer.locale, None
    try:
        return parse_locale(raw), None
    except UnknownLocale:
        return outer.locale, raw  # refused by the consumers middleware, as alone


def _with_org(index: int, path: str, query: str, org: str) -> URL:
    """The entry's URL carrying the outer call's orgId; another orgId is refused."""
    if "orgId" not in query:  # most entries: no query to parse, one URL to build
        sep = "&" if query else ""
        return URL(f"{path}?{query}{sep}orgId={quote(org, safe='')}", encoded=True)
    url = URL(path + "?" + query, encoded=True)
    given = [v.strip() for v in url.query.getall("orgId", [])]
    if any(v != org for v in given):
        raise Refused(index, "url", "bulk_org_switch", org=org)
    if not given:
        sep = "&" if query else ""
        url = URL(f"{path}?{query}{sep}orgId={quote(org, safe='')}", encoded=True)
    return url


def _headers(index: int, spec: EntrySpec, outer: web.Request, body: bytes) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    own_auth = outer.headers.get(hdrs.AUTHORIZATION, "")
    for name, value in spec.headers:
        if name.lower() == "authorization":
            # The outer call's identity applies; repeating it is harmless, another one is not.
            if value.strip() != own_auth.strip():
                raise Refused(index, "headers", "bulk_identity_switch")
            continue
        if name.lower() not in _OWN_HEADERS:
            headers.add(name, value)
    headers[hdrs.AUTHORIZATION] = own_auth
    if body:
        headers.setdefault(hdrs.CONTENT_TYPE, "application/json")
        headers[hdrs.CONTENT_LENGTH] = str(len(body))
    return headers


def prepare(
    index: int, spec: EntrySpec, outer: web.Request, router: Router
) -> Entry:
    """The entry as its call; :class:`Refused` when it cannot be one."""
    st: RequestState = outer[STATE]
    method = spec.method.strip().upper() or "GET"
    if method not in METHODS:
        raise Refused(index, "method", "bad_bulk_method", method=spec.method[:20])
    path, query = _check_path(index, spec.url)
    assert st.org is not None  # the consumers middleware checked the bulk call's org
    url = _with_org(index, path, query, st.org)
    body = _body(index, spec)
    headers = _headers(index, spec, outer, body)
    locale, asked = _locale(url, st)
    decoded = url.path
    route, match, allowed = router.match(method, decoded)
    if route == BULK_ROUTE:
        raise Refused(index, "url", "bulk_recursive")
    if route.startswith(STREAMED_PREFIX):
        raise Refused(index, "url", "bulk_files_unsupported")
    if route == EXPORT_ROUTE:
        raise Refused(index, "url", "bulk_export_unsupported")
    return Entry(index, method, route, match, decoded, url.query, body, headers, locale, asked,
                 allowed)

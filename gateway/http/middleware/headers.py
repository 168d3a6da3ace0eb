"""Request headers read as one value are refused when repeated; request bodies in a content
coding the gateway cannot inflate are refused with 415.

Which header wins when a request repeats one is up to each component on the way (a proxy may
pick the last, aiohttp's ``headers.get`` picks the first), so a repeated header that decides
something is refused instead of guessed: ``Authorization`` (in the consumers middleware, before
the key is looked up), ``Idempotency-Key`` (in the idempotency middleware), ``If-Match`` (here).
aiohttp's parser itself refuses a repeated ``Content-Length``, ``Content-Type``, ``Host`` and
``Transfer-Encoding``. A repeated ``X-Request-Id`` only labels logs: the first is used.

Content codings: aiohttp inflates ``gzip`` and ``deflate`` itself, and ``br``/``zstd`` only
when their modules are installed (without them its parser refuses the request, which
``gateway/http/protocol.py`` renders as the same 415). Anything else (``compress``, ``x-gzip``,
a list of codings, garbage) would reach the handlers as undecoded bytes, so it is refused here.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.errors import Detail, InvalidRequest
from gateway.http.middleware.errors import unsupported_encoding

__all__ = [
    "ACCEPTED_CODINGS", "SINGLE_VALUED", "check_coding", "check_headers",
    "check_request_headers", "single_header", "single_value",
]

# Headers refused when seen twice (Authorization and Idempotency-Key have theirs).
SINGLE_VALUED = (hdrs.IF_MATCH,)
ACCEPTED_CODINGS = frozenset({"gzip", "deflate", "identity"})


def single_header(request: web.Request, name: str) -> str | None:
    """The header's value, None when absent; 400 ``duplicate_header`` when given twice."""
    return single_value(request.headers, name)


def single_value(headers: CIMultiDictProxy[str] | CIMultiDict[str], name: str) -> str | None:
    """:func:`single_header` on a headers mapping (a bulk entry's)."""
    values = headers.getall(name, [])
    if len(values) > 1:
        params = {"header": name}
        raise InvalidRequest("duplicate_header", params,
                             details=[Detail(name, "duplicate_header", params)])
    return values[0] if values else None


def _check_coding(request: web.Request) -> None:
    if request.body_exists:
        check_coding(request.headers)


def check_request_headers(headers: CIMultiDictProxy[str] | CIMultiDict[str]) -> None:
    """What :func:`check_headers` checks, on the headers of a request that has a body (a bulk
    entry's: it is carried in its bulk call's body)."""
    for name in SINGLE_VALUED:
        single_value(headers, name)
    check_coding(headers)


def check_coding(headers: CIMultiDictProxy[str] | CIMultiDict[str]) -> None:
    """415 for a body in a content coding the gateway does not inflate."""
    values = headers.getall(hdrs.CONTENT_ENCODING, [])
    if not values:
        return
    # Two header lines mean two codings applied in turn (RFC 9110 §8.4), as a list does.
    coding = ", ".join(v.strip() for v in values)
    if coding.lower() not in ACCEPTED_CODINGS:
        raise unsupported_encoding(coding)


def check_headers(request: web.Request) -> None:
    """What this module checks on a request (every route): run by the consumers middleware
    once the caller is known (a 401 or 403 comes first), so it is not a layer of its own."""
    for name in SINGLE_VALUED:
        single_header(request, name)
    _check_coding(request)

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
from aiohttp.typedefs import Handler

from gateway.errors import Detail, InvalidRequest
from gateway.http.middleware.errors import unsupported_encoding

__all__ = ["ACCEPTED_CODINGS", "SINGLE_VALUED", "headers_middleware", "single_header"]

# Headers this middleware refuses to see twice (Authorization and Idempotency-Key have theirs).
SINGLE_VALUED = (hdrs.IF_MATCH,)
ACCEPTED_CODINGS = frozenset({"gzip", "deflate", "identity"})


def single_header(request: web.Request, name: str) -> str | None:
    """The header's value, None when absent; 400 ``duplicate_header`` when given twice."""
    values = request.headers.getall(name, [])
    if len(values) > 1:
        text = f"The header {name} is given more than once"
        raise InvalidRequest(text, key="duplicate_header", params={"header": name},
                             details=[Detail(name, text, "duplicate_header", {"header": name})])
    return values[0] if values else None


def _check_coding(request: web.Request) -> None:
    values = request.headers.getall(hdrs.CONTENT_ENCODING, [])
    if not values or not request.body_exists:
        return
    # Two header lines mean two codings applied in turn (RFC 9110 §8.4), as a list does.
    coding = ", ".join(v.strip() for v in values)
    if coding.lower() not in ACCEPTED_CODINGS:
        raise unsupported_encoding(coding)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    for name in SINGLE_VALUED:
        single_header(request, name)
    _check_coding(request)
    return await handler(request)

"""What the HTTP/1.1 server accepts before any handler runs: request line, header and linger bounds.

aiohttp's parser refuses a request line or header past these with 400 (and never a 500) before
the app sees it; every way the gateway listens (``gateway serve``, ``gateway demo``) passes them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HANDLER_ARGS", "MAX_FIELD_SIZE", "MAX_HEADERS", "MAX_LINE_SIZE"]

# The request line: room for a GET query whose filter is URL-encoded JSON (aiohttp's 8 KiB is
# short for that), and no more: a longer query belongs in POST .../query.
MAX_LINE_SIZE = 32_768
# One header line; a bearer key or an If-Match is far shorter.
MAX_FIELD_SIZE = 16_384
MAX_HEADERS = 100
# After answering early (413 on a chunked body past server.maxBodyBytes), aiohttp reads and drops
# what the client still sends so that the client can read the answer. Its default is 10 s of that;
# 2 s is enough for a client to stop, and bounds what a hostile sender gets out of us.
LINGERING_TIME = 2.0

HANDLER_ARGS: dict[str, Any] = {
    "max_line_size": MAX_LINE_SIZE,
    "max_field_size": MAX_FIELD_SIZE,
    "max_headers": MAX_HEADERS,
    "lingering_time": LINGERING_TIME,
}

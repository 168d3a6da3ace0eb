"""Helpers shared by the Data Service live tests."""

from gateway.connector import PushedQuery

TOKEN_PATH = "/identity_/connect/token"
API = "/acme/DefaultTenant/datafabric_/api"


def query_path(entity: str) -> str:
    return f"{API}/EntityService/{entity}/query"


async def walk(conn, entity: str, pushed: PushedQuery | None = None,
               limit: int | None = None) -> list[dict]:
    """Every record of a pushed query, page by page as the gateway's pager would."""
    pushed = pushed or PushedQuery()
    out, offset = [], 0
    limit = limit or conn.capabilities.max_page
    for _ in range(1000):
        page = await conn.query(entity, pushed, offset, limit)
        out.extend(page.records)
        offset += len(page.records)
        if not page.more:
            return out
    raise AssertionError("paging did not end")

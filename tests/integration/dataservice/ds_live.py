"""Helpers shared by the Data Service live tests."""

from tests.integration.connector_fixtures import walk

__all__ = ["API", "TOKEN_PATH", "query_path", "walk"]

TOKEN_PATH = "/identity_/connect/token"
API = "/acme/DefaultTenant/datafabric_/api"


def query_path(entity: str) -> str:
    return f"{API}/EntityService/{entity}/query"

"""Helpers shared by the Sugar live tests."""

from tests.integration.connector_fixtures import walk

__all__ = ["TOKEN_PATH", "walk"]

TOKEN_PATH = "/rest/v10/oauth2/token"

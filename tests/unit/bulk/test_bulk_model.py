"""The bulk body's shape: what is a 400 for the whole call, what is left to each entry."""

from __future__ import annotations

import pytest

from gateway.bulk.entries import Refused, _check_path
from gateway.bulk.model import parse_bulk
from gateway.errors import InvalidRequest, PayloadTooLarge


def test_sugar_shape_with_defaults() -> None:
    got = parse_bulk({"requests": [{"url": "/v1/x", "data": '{"a": 1}'}, {"url": "/y",
                                   "method": "post", "headers": ["If-Match: 3"]}]},
                     max_entries=10)
    assert not got.fail_on_first
    assert got.entries[0].method == "GET" and got.entries[0].data == '{"a": 1}'
    assert got.entries[1].headers == (("If-Match", "3"),)
    assert got.entries[0].has_data and not got.entries[1].has_data


def test_shape_errors_name_every_path() -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_bulk({"requests": [{"url": ""}, {"url": "/x", "headers": {"A\r\nB": "x"}},
                                 {"url": "/x", "headers": ["no colon"]}], "failOnFirst": 1},
                   max_entries=10)
    assert [d.path for d in info.value.details] == [
        "failOnFirst", "requests[0].url", "requests[1].headers.A\r\nB", "requests[2].headers[0]"]


def test_over_the_limit_is_413_before_anything_else() -> None:
    with pytest.raises(PayloadTooLarge) as info:
        parse_bulk({"requests": [{"url": "/x"}] * 3}, max_entries=2)
    assert info.value.params == {"max": 2, "count": 3}


@pytest.mark.parametrize("url", [
    "/v1/records/s/e/1", "/records/s/e/1", "/v1/records/s/e?filter=%5B%5D", "/v1/records/s/a%20b",
    "/v1/records/s/e/..x", "/v1/records/s/e/x..",
])
def test_plain_gateway_paths_pass(url: str) -> None:
    path, _ = _check_path(0, url)
    assert path.startswith("/v1/records/")


@pytest.mark.parametrize("url", [
    "http://h/v1/x", "https://h/x", "//h/x", "v1/x", "/v1/x/../y", "/v1/./x", "/v1/x/..",
    "/v1/%2e%2e/x", "/v1/%2E./x", "/v1/%252e%252e/x", "/v1/a%2fb", "/v1/a%5cb", "/v1/a\\b",
    "/v1/a#frag", "/v1/a b", "/v1/a\x00", "/v1/%2525252e%2525252e/x",
])
def test_traversal_and_absolute_urls_are_refused(url: str) -> None:
    with pytest.raises(Refused) as info:
        _check_path(3, url)
    assert info.value.details[0].path == "requests[3].url"
    assert info.value.status == 400

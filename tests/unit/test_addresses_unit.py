"""The id check and the URL builder on their own: what they accept, encode, refuse and say."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from prometheus_client import generate_latest

from gateway.addresses import check_id
from gateway.connector import ANY_ID, Capabilities, IdShape
from gateway.errors import InvalidRequest
from gateway.observability.metrics import Metrics
from gateway.upstream.urls import join, joined, segment

HEX24 = IdShape(r"[0-9a-f]{24}", "24 hexadecimal digits", reserved=frozenset({"count"}))


class Conn:
    def __init__(self, shape: IdShape) -> None:
        self.capabilities = Capabilities(
            operators=frozenset(), or_groups=False, sort=False, multi_sort=False, max_page=10,
            counts=False, id_shape=shape,
        )


def refused(shape: IdShape, value: str, **kw: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        check_id(Conn(shape), "ops", value, **kw)  # type: ignore[arg-type]
    return caught.value


def test_an_id_of_the_shape_comes_back_unchanged() -> None:
    rid = "0123456789abcdef01234567"
    assert check_id(Conn(HEX24), "ops", rid) == rid  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", ".", "..", "count", "COUNT", "0123456789abcdef0123456",
                                   "0123456789abcdef01234567,0123456789abcdef01234567",
                                   "0123456789abcdef0123456\n"])
def test_other_shapes_are_400_with_the_id_path(value: str) -> None:
    err = refused(HEX24, value)
    assert err.status == 400 and err.error == "invalid_request" and err.key == "bad_record_id"
    assert [d.path for d in err.details] == ["id"]
    assert err.details[0].key == "bad_record_id"
    assert err.params == {"id": value, "source": "ops", "shape": "24 hexadecimal digits"}
    assert repr(value) in err.msg and "ops" in err.msg and "24 hexadecimal digits" in err.msg
    assert err.details[0].params == err.params and err.details[0].msg == err.msg


def test_the_detail_path_can_be_named() -> None:
    assert refused(HEX24, "x", path="requests[3].url").details[0].path == "requests[3].url"


def test_a_long_id_is_cut_in_what_is_said_back() -> None:
    err = refused(HEX24, "z" * 500)
    assert err.params["id"] == "z" * 64 + "…" and "z" * 65 not in err.msg
    exact = refused(HEX24, "z" * 64)
    assert exact.params["id"] == "z" * 64


def test_each_refusal_is_logged_and_counted_for_the_operator() -> None:
    metrics = Metrics()
    with structlog.testing.capture_logs() as logs:
        refused(HEX24, "auditLogs", metrics=metrics)
        refused(HEX24, "history", metrics=metrics)
    assert [(e["event"], e["log_level"], e["source"], e["id"]) for e in logs] == [
        ("record_id_refused", "warning", "ops", "auditLogs"),
        ("record_id_refused", "warning", "ops", "history")]
    text = generate_latest(metrics.registry).decode()
    assert 'gateway_refused_ids_total{source="ops"} 2.0' in text


def test_any_id_takes_everything_but_steps_empties_and_controls() -> None:
    for ok in ("a", "a b", "é", "a/b", "a,b", "x" * 255, "MassUpdate"):
        assert ANY_ID.accepts(ok)
    for bad in ("", ".", "..", "x" * 256, "a\x00", "a\x7f", "\n"):
        assert not ANY_ID.accepts(bad)


def test_reserved_words_are_matched_whole_and_case_blind() -> None:
    shape = IdShape(r"\w+", "words", reserved=frozenset({"filter"}))
    assert not shape.accepts("Filter") and shape.accepts("filters") and shape.accepts("xfilter")


@pytest.mark.parametrize(("value", "encoded"), [
    ("a/b", "a%2Fb"), ("a?b", "a%3Fb"), ("a#b", "a%23b"), ("%2e", "%252e"), ("a,b", "a%2Cb"),
    ("a b", "a%20b"), ("é", "%C3%A9"), ("...", "..."), (".x", ".x"), ("~-_", "~-_"),
])
def test_a_segment_is_one_encoded_step(value: str, encoded: str) -> None:
    assert segment(value) == encoded


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_steps_that_no_encoding_keeps_are_refused(value: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        segment(value)
    err = caught.value
    assert err.status == 400 and err.key == "unsafe_segment" and err.params == {"value": value}
    assert [d.path for d in err.details] == ["path"] and repr(value) in err.msg
    assert err.details[0].key == "unsafe_segment" and err.details[0].params == {"value": value}
    assert err.details[0].msg == err.msg


def test_join_puts_each_part_after_the_base_as_one_step() -> None:
    assert join("http://h/api/", "data", "a/b", "x y") == "http://h/api/data/a%2Fb/x%20y"
    assert join("http://h/api", "data") == "http://h/api/data"
    assert join("http://h/api") == "http://h/api"
    assert join("http://h/XX/", "a") == "http://h/XX/a"  # only the slash is trimmed
    with pytest.raises(InvalidRequest):
        join("http://h/api", "data", "..")


def test_joined_lists_values_in_one_step_and_refuses_a_separator_inside_one() -> None:
    assert joined(["a", "b c", "d/e"]) == "a,b%20c,d%2Fe"
    assert joined(["a", "b"], ";") == "a;b"
    for bad in (["a,b"], ["a", ""], ["."], []):
        with pytest.raises(InvalidRequest):
            joined(bad)
    with pytest.raises(InvalidRequest) as empty:
        joined([])
    assert empty.value.params == {"value": ""}
    with pytest.raises(InvalidRequest) as caught:
        joined(["a", "b;c"], ";")
    assert caught.value.params == {"value": "b;c"}

"""A source's ``cache`` block: off by default, durations and sizes in their usual spellings,
and errors that name the key and say what would do."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError


def with_cache(minimal: str, cache: str, extra: str = "") -> str:
    return minimal + f"    cache: {cache}\n" + extra


def problems(load, text: str) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as excinfo:
        load(text)
    return excinfo.value.problems


def test_the_cache_is_off_unless_asked(load, minimal) -> None:
    assert load(minimal).sources["crm"].cache is None


def test_defaults_when_asked_with_nothing_more(load, minimal) -> None:
    cache = load(with_cache(minimal, "{}")).sources["crm"].cache
    assert (cache.ttl, cache.maxBytes, cache.entities) == (5.0, 16 * 1024 * 1024, None)


@pytest.mark.parametrize(("given", "seconds"), [
    ("5", 5.0), ("2.5", 2.5), ('"500ms"', 0.5), ('"5s"', 5.0), ('"2m"', 120.0), ('"1h"', 3600.0),
    ('"1.5 S"', 1.5),
])
def test_ttl_takes_seconds_or_a_duration(load, minimal, given: str, seconds: float) -> None:
    assert load(with_cache(minimal, f"{{ttl: {given}}}")).sources["crm"].cache.ttl == seconds


@pytest.mark.parametrize(("given", "size"), [
    ("4096", 4096), ('"16MiB"', 16 * 1024**2), ('"512KiB"', 512 * 1024), ('"1GiB"', 1024**3),
    ('"2MB"', 2_000_000), ('"1.5KiB"', 1536), ('"2048B"', 2048), ('"16 mib"', 16 * 1024**2),
])
def test_max_bytes_takes_bytes_or_a_size(load, minimal, given: str, size: int) -> None:
    assert load(with_cache(minimal, f"{{maxBytes: {given}}}")).sources["crm"].cache.maxBytes == size


@pytest.mark.parametrize(("cache", "key", "says"), [
    ('{ttl: "5 parsecs"}', "ttl", "is not a duration"),
    ("{ttl: true}", "ttl", "must be a duration"),
    ("{ttl: 0}", "ttl", "greater than or equal to 0.001"),
    ('{ttl: "2d"}', "ttl", '"500ms", "5s", "2m"'),
    ("{ttl: 100000}", "ttl", "less than or equal to 86400"),
    ('{maxBytes: "16 megs"}', "maxBytes", "is not a size"),
    ('{maxBytes: "0.3KB"}', "maxBytes", "greater than or equal to 1024"),
    ('{maxBytes: "1.0001KiB"}', "maxBytes", "not a whole number of bytes"),
    ("{maxBytes: [1]}", "maxBytes", "valid integer"),
    ("{entities: []}", "entities", "at least 1 item"),
    ('{entities: [""]}', "entities[0]", "at least 1 character"),
    ("{tll: 5}", "tll", "unknown key"),
])
def test_bad_values_are_named_by_their_key(load, minimal, cache: str, key: str,
                                           says: str) -> None:
    [(path, reason)] = problems(load, with_cache(minimal, cache))
    assert path == f"sources.crm.cache.{key}"
    assert says in reason


def test_cached_entities_must_be_exposed_ones(load, minimal) -> None:
    text = with_cache(minimal, "{entities: [Accounts, Leads]}",
                      "    entities: {Accounts: {}, Contacts: {}}\n")
    [(path, reason)] = problems(load, text)
    assert path == "sources.crm"
    assert "cache.entities names 'Leads'" in reason and "Accounts, Contacts" in reason
    text = with_cache(minimal, "{entities: [Contacts]}", "    entities: {Contacts: {}}\n")
    assert load(text).sources["crm"].cache.entities == ["Contacts"]

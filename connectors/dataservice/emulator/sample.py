"""Demo and test data: Olympic games and their athletes, the same for the same seed."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

from connectors.dataservice.emulator.store import SYSTEM_USER, RecordStore
from connectors.dataservice.emulator.values import format_datetime

__all__ = ["seed"]

_CITIES = ("Athens", "Paris", "St. Louis", "London", "Stockholm", "Antwerp", "Amsterdam",
           "Los Angeles", "Berlin", "Helsinki", "Melbourne", "Rome", "Tokyo", "Mexico City",
           "Munich", "Montreal", "Moscow", "Seoul", "Barcelona", "Atlanta", "Sydney", "Beijing",
           "Rio de Janeiro", "Chamonix", "St. Moritz", "Lake Placid", "Oslo", "Cortina d'Ampezzo",
           "Squaw Valley", "Innsbruck", "Grenoble", "Sapporo", "Sarajevo", "Calgary",
           "Albertville", "Lillehammer", "Nagano", "Salt Lake City", "Turin", "Vancouver",
           "Sochi", "PyeongChang", "Milano Cortina", "Brisbane", "Zürich", "São Paulo")
_COUNTRIES = ("USA", "FRA", "GBR", "GER", "JPN", "CHN", "BRA", "KEN", "NOR", "ITA", "AUS", "CAN")
_FIRST = ("Ana", "Ben", "Chen", "Dara", "Émile", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kofi",
          "Lena", "Mateo", "Noor", "Olga", "Pål", "Quinn", "Rosa", "Sven", "Tomás")
_LAST = ("Andersen", "Brown", "Costa", "Dubois", "Eriksen", "Fujita", "García", "Hoffmann",
         "Ivanova", "Jensen", "Kamau", "Li", "Müller", "Nakamura", "O'Neill", "Rossi")


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed(store: RecordStore, *, seed: int, olympics: int, athletes: int) -> None:
    """Fill the store; some values are null on purpose, so null semantics get exercised."""
    rng = random.Random(seed)
    base = datetime(2021, 3, 4, 10, 36, 28, 230000, tzinfo=UTC)
    games: list[str] = []
    for i in range(olympics):
        year = 1896 + 2 * (i % 66)
        city = _CITIES[rng.randrange(len(_CITIES))]
        opening = date(year, rng.randint(1, 12), rng.randint(1, 28))
        stamp = format_datetime(base + timedelta(minutes=i))
        row = store.insert("Olympics", {
            "Id": _guid(rng), "Name": f"{city} {year}",
            "Nations": None if i % 17 == 5 else rng.randint(12, 206),
            "OlymipcsVersion": 1 + i % 3,
            "OpeningDate": opening.isoformat(),
            "ClosingDate": None if i % 23 == 7 else (opening + timedelta(
                days=rng.randint(10, 20))).isoformat(),
            "CreateTime": stamp, "UpdateTime": stamp}, user=SYSTEM_USER)
        games.append(row["Id"])
    for i in range(athletes):
        born = date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28))
        stamp = format_datetime(base + timedelta(hours=1, minutes=i))
        medals = sorted(rng.sample(range(3), rng.randint(0, 3)))
        store.insert("Athletes", {
            "Id": _guid(rng),
            "Name": f"{_FIRST[rng.randrange(len(_FIRST))]} {_LAST[rng.randrange(len(_LAST))]}",
            "Country": None if i % 29 == 3 else _COUNTRIES[rng.randrange(len(_COUNTRIES))],
            "Age": None if i % 31 == 4 else rng.randint(16, 45),
            "Height": round(rng.uniform(1.5, 2.1), 2),
            "Active": rng.random() < 0.6,
            "Sport": rng.randrange(6),
            "Medals": medals or None,
            "Games": games[rng.randrange(len(games))] if games and i % 13 else None,
            "Born": born.isoformat(),
            "LastSeen": format_datetime(base + timedelta(days=rng.randint(0, 900),
                                                         seconds=rng.randint(0, 86399))),
            "Bio": None if i % 7 == 0 else "Athlete biography. " * rng.randint(1, 40),
            "CreateTime": stamp, "UpdateTime": stamp}, user=SYSTEM_USER)

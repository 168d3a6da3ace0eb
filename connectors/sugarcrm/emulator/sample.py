"""Seeded demo data: Accounts and Contacts with NULLs, ties, accents and wildcard characters."""

from __future__ import annotations

import random
import struct
import uuid
import zlib
from datetime import datetime, timedelta

from connectors.sugarcrm.emulator.store import FileData, RecordStore, iso

__all__ = ["INDUSTRIES", "seed", "tiny_png"]

INDUSTRIES = ["Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
              "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment",
              "Finance", "Government", "Healthcare", "Hospitality", "Insurance", "Manufacturing",
              "Media", "Not For Profit", "Retail", "Technology", "Transportation", "Utilities",
              "Other"]
ACCOUNT_TYPES = ["Analyst", "Competitor", "Customer", "Integrator", "Investor", "Partner",
                 "Press", "Prospect", "Reseller", "Other"]
LEAD_SOURCES = ["Cold Call", "Existing Customer", "Self Generated", "Employee", "Partner",
                "Public Relations", "Direct Mail", "Conference", "Trade Show", "Web Site",
                "Word of mouth", "Email", "Campaign", "Other"]
# Names that make collation, wildcard and tie handling observable.
SPECIAL_ACCOUNTS = ["Acme Corp", "ACME corp", "acme Corp", "Ácme Industries", "Éclair Bakery",
                    "Zürich Re", "Ñandú SA", "100% Organic", "50% Off Outlet", "Under_score Ltd",
                    "UnderXscore Ltd", "O'Brien & Sons", "Straße GmbH", "Acme Corp"]
PREFIXES = ["Global", "Pacific", "Northern", "Blue", "Summit", "Pioneer", "Vertex", "Atlas",
            "Nova", "Granite", "Silver", "Evergreen", "Harbor", "Quantum", "Redwood"]
SUFFIXES = ["Holdings", "Systems", "Partners", "Labs", "Logistics", "Foods", "Energy", "Media",
            "Consulting", "Industries", "Group", "Networks"]
CITIES = [("Berlin", "Germany"), ("München", "Germany"), ("Paris", "France"), ("Lyon", "France"),
          ("New York", "USA"), ("Austin", "USA"), ("São Paulo", "Brazil"), ("Tokyo", "Japan"),
          ("Zürich", "Switzerland"), ("Madrid", "Spain")]
FIRST = ["Anna", "José", "Zoë", "Björn", "Chloé", "Liam", "Olivia", "Noah", "Émile", "Mia",
         "Sven", "Ana", "john", "JOHN", "Priya", "Kenji"]
LAST = ["Smith", "smith", "García", "Müller", "O'Neil", "Nguyen", "Ångström", "Brown", "Rossi",
        "Dubois", "Tanaka", "Silva", "Kowalski", "100%", "Under_score"]
TITLES = ["CEO", "CTO", "VP Sales", "Engineer", "Buyer", "Director", "Analyst", ""]
# A fixed end so the data set never depends on today's date.
EPOCH, SPAN = datetime(2019, 1, 1, 8, 0, 0), 5 * 365 * 86400


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of one grey colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                            0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _maybe(rng: random.Random, value: object, null: float = 0.1, empty: float = 0.0) -> object:
    roll = rng.random()
    if roll < null:
        return None
    if roll < null + empty:
        return ""
    return value


def _dates(rng: random.Random, previous: list[str]) -> tuple[str, str]:
    entered = EPOCH + timedelta(seconds=rng.randrange(SPAN))
    modified = entered + timedelta(seconds=rng.randrange(200 * 86400))
    if previous and rng.random() < 0.07:  # ties on date_modified make the id tie-break matter
        return iso(entered), rng.choice(previous)
    return iso(entered), iso(modified)


def seed(store: RecordStore, *, seed: int, accounts: int, contacts: int,
         user_ids: list[str]) -> None:
    """Fill `store` with the same data for the same arguments."""
    rng = random.Random(seed)
    stamps: list[str] = []
    account_ids: list[str] = []
    for i in range(accounts):
        name = (SPECIAL_ACCOUNTS[i] if i < len(SPECIAL_ACCOUNTS)
                else f"{rng.choice(PREFIXES)} {rng.choice(SUFFIXES)}")
        slug = "".join(ch for ch in name.lower() if ch.isalnum()) or "account"
        city, country = rng.choice(CITIES)
        entered, modified = _dates(rng, stamps)
        stamps.append(modified)
        record = store.insert("Accounts", {
            "id": _uuid(rng), "name": name,
            "account_type": _maybe(rng, rng.choice(ACCOUNT_TYPES), 0.15),
            "industry": _maybe(rng, rng.choice(INDUSTRIES), 0.1, 0.03),
            "annual_revenue": _maybe(rng, rng.choice(["1,000,000", "500K", "12000000", "n/a"]),
                                     0.3, 0.1),
            "employees": _maybe(rng, rng.choice(["10", "250", "1000+", "5"]), 0.2, 0.05),
            "rating": _maybe(rng, rng.choice(["A", "B", "C"]), 0.4),
            "phone_office": f"(555) {rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            "website": _maybe(rng, f"https://www.{slug}.example.com", 0.2),
            "email1": _maybe(rng, f"info@{slug}.example.com", 0.15),
            "billing_address_city": _maybe(rng, city, 0.1),
            "billing_address_country": _maybe(rng, country, 0.1),
            "description": _maybe(rng, f"{name} account, seeded.", 0.5, 0.1),
            "headcount_c": _maybe(rng, rng.choice([5, 10, 50, 250, 1000, 10000]), 0.2),
            "revenue_c": _maybe(rng, rng.randrange(0, 5_000_000_00) / 100, 0.2),
            "assigned_user_id": _maybe(rng, rng.choice(user_ids), 0.05),
            "created_by": user_ids[0],
            "modified_user_id": user_ids[0],
            "date_entered": entered, "date_modified": modified,
        })
        account_ids.append(record["id"])
    for i in range(contacts):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        entered, modified = _dates(rng, stamps)
        stamps.append(modified)
        birth = EPOCH.date() - timedelta(days=rng.randrange(20 * 365, 70 * 365))
        record = store.insert("Contacts", {
            "id": _uuid(rng), "first_name": _maybe(rng, first, 0.05), "last_name": last,
            "title": _maybe(rng, rng.choice(TITLES), 0.2),
            "account_id": _maybe(rng, rng.choice(account_ids), 0.1) if account_ids else None,
            "email1": _maybe(rng, f"{first}.{last}{i}@mail.example.com".lower(), 0.1),
            "phone_work": _maybe(rng, f"+1 555 {rng.randrange(1000000, 9999999)}", 0.2),
            "birthdate": _maybe(rng, birth.isoformat(), 0.3),
            "do_not_call": rng.random() < 0.2,
            "lead_source": _maybe(rng, rng.choice(LEAD_SOURCES), 0.25),
            "score_c": _maybe(rng, round(rng.uniform(0, 100), 2), 0.3),
            "description": _maybe(rng, "Seeded contact.", 0.6),
            "assigned_user_id": _maybe(rng, rng.choice(user_ids), 0.05),
            "created_by": user_ids[0], "modified_user_id": user_ids[0],
            "date_entered": entered, "date_modified": modified,
        })
        if i % 50 == 7:  # a few portraits, so the file endpoints have something to serve
            picture = _uuid(rng)
            record["picture"] = picture
            store.files[("Contacts", record["id"], "picture")] = FileData(
                f"{record['last_name'].lower()}.png", "image/png", tiny_png(2, 2))

"""Seed data: the docs' own company records plus generated companies and contacts."""

from __future__ import annotations

import random
from typing import Any

from connectors.slingr.emulator.store import FileData, RecordStore

__all__ = ["BLOGPAD", "BROWSEZOOM", "seed"]

# The two records the seed's samples show, exactly as GET /data/companies/{id} answers them.
BROWSEZOOM: dict[str, Any] = {
    "id": "57fd2d65e4b0ce322b0c8665", "version": 379, "label": "Browsezoom",
    "name": "Browsezoom", "state": "pending", "type": "a", "numberOfEmployees": 95,
    "isCustomer": False,
    "contactInformation": {"phoneNumber": "1-702-845-9380", "email": "jwoodsrq@spotify.com",
                           "id": "58837fdd3b063a0007603547", "label": "Contact Information"},
    "addresses": [{"addressLine": "4 Magdeline Place", "zipCode": "89145", "city": "Las Vegas",
                   "state": "NV", "id": "57fd45aee4b0ce322b0c86aa", "label": "NV - 89145"}],
    "homepage": "http://www.browsezoom.com", "taxId": "350-KWM", "rating": "2.8",
    "notes": "modified notes", "lastMeeting": 1429623180000, "lastUpdate": 1485012900000,
}
BLOGPAD: dict[str, Any] = {
    "id": "57fd2d65e4b0ce322b0c8565", "version": 375, "label": "Blogpad",
    "name": "Blogpad", "state": "pending", "type": "b", "numberOfEmployees": 534,
    "isCustomer": False,
    "contactInformation": {"phoneNumber": "1-405-298-5885", "email": "molsonre@rakuten.co.jp",
                           "id": "581224c8e4b0285870237cc5", "label": "Contact Information"},
    "addresses": [{"addressLine": "4 Crownhardt Plaza", "zipCode": "73157",
                   "city": "Oklahoma City", "state": "OK", "id": "57fd45aee4b0ce322b0c86ac",
                   "label": "OK - 73157"}],
    "homepage": "http://www.blogpad.com", "taxId": "123-ABC", "rating": "3.3",
    "notes": "Aenean fermentum. Donec ut mauris eget massa tempor convallis. Nulla neque libero,"
             " convallis eget, eleifend luctus, ultricies eu, nibh.",
    "lastMeeting": 1422111300000, "lastUpdate": 1485292500000,
}

_HEADS = ["Trud", "Riff", "Snap", "Edge", "Flip", "Roo", "Jazz", "Skip", "Quat", "Zoom",
          "Yodel", "Thought", "Live", "Dab", "Kwi", "Meez", "Tagch", "Voon", "Wiki", "Fivec"]
_TAILS = ["oo", "wire", "tags", "ify", "opia", "xo", "feed", "bean", "link", "mix", "ster",
          "bridge", "works", "cast"]
_FIRST = ["Ann", "bob", "Carla", "Dmitri", "Eve", "FRANK", "Grace", "Hiro", "Ines", "José",
          "Karl", "Lena", "Mia", "Noah", "Olga", "Pat"]
_LAST = ["Smith", "Jones", "garcia", "Müller", "O'Brien", "Nguyen", "Rossi", "Kim", "LEE",
         "Silva", "Novak", "Berg"]
_STATES = ["CA", "CO", "NJ", "NV", "OK", "TX", "NY"]
_CITIES = {"CA": "San Jose", "CO": "Denver", "NJ": "Newark", "NV": "Las Vegas",
           "OK": "Oklahoma City", "TX": "Austin", "NY": "Albany"}
_TAGS = ["vip", "partner", "Reseller", "churn-risk", "new"]
_PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")

_COMPANY_T0 = 1451606400  # 2016-01-01: generated companies are older than the docs' records
_CONTACT_T0 = 1485907200  # 2017-02-01


def _maybe(rng: random.Random, value: Any, p_null: float = 0.1) -> Any:
    return None if rng.random() < p_null else value


def _company(rng: random.Random, i: int) -> dict[str, Any]:
    name = rng.choice(_HEADS) + rng.choice(_TAILS)
    if i % 17 == 0:
        name = name.lower()
    elif i % 23 == 0:
        name = name.upper()
    addresses = []
    for _ in range(rng.choice([0, 1, 1, 1, 2])):
        st = rng.choice(_STATES)
        addresses.append({"addressLine": f"{rng.randint(1, 999)} {rng.choice(_HEADS)} Street",
                          "zipCode": f"{rng.randint(10000, 99999)}", "city": _CITIES[st],
                          "state": st})
    slug = name.lower()
    return {
        "name": _maybe(rng, name, 0.02) if i % 50 else "",
        "state": rng.choices(["active", "inactive", "pending"], [5, 2, 3])[0],
        "type": _maybe(rng, rng.choice("abc")),
        "numberOfEmployees": _maybe(rng, rng.choice([10, 50, 95, 100, rng.randint(1, 5000)])),
        "isCustomer": rng.random() < 0.4,
        "contactInformation": {"phoneNumber": _maybe(rng, f"1-{rng.randint(200, 999)}-"
                                                          f"{rng.randint(100, 999)}-"
                                                          f"{rng.randint(1000, 9999)}"),
                               "email": _maybe(rng, f"info@{slug}.com")},
        "addresses": addresses,
        "homepage": _maybe(rng, f"http://www.{slug}.com"),
        "taxId": _maybe(rng, f"{rng.randint(100, 999)}-{rng.choice(['ABC', 'KWM', 'XYZ'])}"),
        "rating": _maybe(rng, f"{rng.randint(10, 50) / 10}"),
        "notes": _maybe(rng, rng.choice(["call back", "Key account", "key account", ""]), 0.3),
        "lastMeeting": _maybe(rng, (_COMPANY_T0 + rng.randint(0, 2 ** 24)) * 1000),
        "tags": rng.sample(_TAGS, rng.choice([0, 0, 1, 2, 3])),
    }


def seed(store: RecordStore, *, seed: int = 42, companies: int = 250,
         contacts: int = 600) -> None:
    """Fill `store` deterministically: ~10% empty values, mixed case, duplicate values."""
    rng = random.Random(seed)
    clock = store.clock
    try:
        company_ids: list[str] = []
        for i in range(max(companies - 2, 0)):
            ts = (_COMPANY_T0 + i * 3600) * 1000
            store.clock = lambda ts=ts: ts  # type: ignore[misc]
            record = _company(rng, i)
            record["version"] = rng.randint(0, 5)
            record["lastUpdate"] = ts
            if i % 20 == 3:
                fid = store.new_id()
                store.files[fid] = FileData(fid, "logo.png", "image/png", _PNG, ts)
                record["logo"] = {"id": fid, "name": "logo.png"}
            company_ids.append(store.insert("companies", record)["id"])
        for doc in (BROWSEZOOM, BLOGPAD)[:max(min(companies, 2), 0)]:
            store.insert("companies", doc)
        for j in range(contacts):
            ts = (_CONTACT_T0 + j * 600) * 1000
            store.clock = lambda ts=ts: ts  # type: ignore[misc]
            company = store.get("companies", rng.choice(company_ids)) if company_ids else None
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            store.insert("contacts", {
                "version": rng.randint(0, 3),
                "firstName": _maybe(rng, first),
                "lastName": last,
                "email": _maybe(rng, f"{first.lower()}.{last.lower()}@example.com"),
                "company": _maybe(rng, company and {"id": company["id"],
                                                    "label": company["label"]}),
                "birthDate": _maybe(rng, f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-"
                                         f"{rng.randint(1, 28):02d}"),
                "numberOfSkills": _maybe(rng, rng.randint(0, 6)),
                "phoneNumbers": [f"+1-555-{rng.randint(1000, 9999)}"
                                 for _ in range(rng.choice([0, 1, 2]))],
                "customer": rng.random() < 0.3,
                "lastContact": _maybe(rng, ts - rng.randint(0, 10 ** 9)),
            })
    finally:
        store.clock = clock

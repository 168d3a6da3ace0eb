"""The differential suite's world: one gateway over the three emulators in a thread of its own,
the entities it fills with adversarial datasets, and the value pools those are drawn from.

A dataset is written straight into the emulator's store (the backend's own data, exact values
that a write through the gateway might refuse or normalize), after the previous one is removed.
Every field of a ``Spec`` has a *role* that says how its values are drawn and which operators a
condition on it may use.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.contract.conftest import AUTH, ORG
from tests.live_gateway import LiveGateway

__all__ = ["DATES", "DATETIMES", "SPECS", "TEXTS", "Live", "Spec", "millis"]


# Text built to be hard: ties under case folding and PAD SPACE, blanks, ß/Σ/İ, accents (composed
# and not), CJK, emoji, quotes, commas, LIKE wildcards, brackets, backslash and slash.
TEXTS = [
    "", " ", "  ", "a", "A", "a ", "A  ", " a", "padtest", "padtest ", "PadTest", "new york ",
    "New York", "NEW YORK  ", "ß", "ss", "SS", "Straße", "STRASSE", "Σ", "\u03c3", "ς", "İ", "i̇",
    "i", "I", "\u0131", "é", "e", "É", "e\u0301", "Zürich", "zurich", "東京", "日本", "😀", "😀a",
    "'", '"', "O'Brien", "a,b", ",", "%", "_", "50%", "a_b", "[x]", "]", "a\\b", "\\", "/",
    "/x/", "x/", "\t", "tab\t", "zz", "Zz",
]
# Pieces for contains/startsWith/endsWith, besides whole values.
PIECES = ["a", "A", "s", "ss", "ß", "\u03c3", "i", "e", "é", " ", "york", "YORK ", "%", "_", "\\",
          "/", ",", '"', "'", "😀", "京", "[", "pad"]
INTS = [0, 1, -1, 9, 10, -10, 100, 2_147_483_647, -2_147_483_648, 2_147_483_646]
NUMBERS = [0, 1.5, -1.5, 0.01, -0.01, 2.25, 10, 9.99, 1_000_000]
DATES = ["2024-02-29", "2023-02-28", "2024-03-01", "2024-02-28", "0001-01-01", "9999-12-31",
         "1970-01-01", "2000-01-01"]
# Around midnight in several offsets, a leap day, and the calendar's ends (valid in UTC).
DATETIMES = [
    "2024-02-29T23:30:00-05:00", "2024-02-29T00:00:00+00:00", "2024-03-01T00:00:00+00:00",
    "2024-02-28T23:59:59+00:00", "2024-03-01T00:30:00+01:00", "2024-02-29T23:59:59+14:00",
    "2024-02-29T00:00:00-12:00", "2024-02-29T12:00:00+05:30", "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00", "1999-12-31T23:59:59+00:00", "2000-01-01T00:00:00+00:00",
]
CHOICES = ["active", "inactive", "pending"]


def millis(moment: str) -> int:
    """An ISO date-time as epoch milliseconds (Slingr's date_time values)."""
    parsed = datetime.fromisoformat(moment)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return int((parsed - epoch).total_seconds() * 1000)


@dataclass(frozen=True)
class Spec:
    """One entity of one backend, its fields by role and the gateway type of each.

    Roles: ``text`` (nullable, anything from TEXTS), ``name`` (required text, never blank),
    ``integer``, ``number``, ``date``, ``datetime`` (ISO; ``stamp``: never null, the store fills
    it), ``millis`` (Slingr's date_time),
    ``boolean``, ``choice`` (Slingr), ``nested`` (``contactInformation.email``)."""

    kind: str
    entity: str
    roles: dict[str, str]
    types: dict[str, str]
    key: str = "id"  # the emulator's key field
    unsortable: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.entity}"

    def text_field(self) -> str:
        return next(f for f, r in self.roles.items() if r == "text")


SPECS = [
    Spec("sugarcrm", "Accounts",
         {"name": "name", "billing_address_city": "text", "headcount_c": "integer",
          "revenue_c": "number", "date_entered": "stamp"},
         {"name": "string", "billing_address_city": "string", "headcount_c": "integer",
          "revenue_c": "number", "date_entered": "datetime"}),
    Spec("sugarcrm", "Contacts",
         {"last_name": "name", "title": "text", "birthdate": "date", "do_not_call": "boolean",
          "score_c": "number"},
         {"last_name": "string", "title": "string", "birthdate": "date",
          "do_not_call": "boolean", "score_c": "number"}),
    Spec("dataservice", "Athletes",
         {"Name": "name", "Country": "text", "Age": "integer", "Height": "number",
          "Active": "boolean", "Born": "date", "LastSeen": "datetime"},
         {"Name": "string", "Country": "string", "Age": "integer", "Height": "number",
          "Active": "boolean", "Born": "date", "LastSeen": "datetime"}, key="Id"),
    Spec("slingr", "companies",
         {"name": "name", "taxId": "text", "numberOfEmployees": "integer", "rating": "number",
          "isCustomer": "boolean", "state": "choice", "lastMeeting": "millis",
          "contactInformation.email": "nested"},
         {"name": "string", "taxId": "string", "numberOfEmployees": "integer",
          "rating": "number", "isCustomer": "boolean", "state": "string",
          "lastMeeting": "integer", "contactInformation.email": "string"}),
    Spec("slingr", "contacts",
         {"lastName": "name", "firstName": "text", "birthDate": "date",
          "numberOfSkills": "integer", "customer": "boolean", "lastContact": "millis"},
         {"lastName": "string", "firstName": "string", "birthDate": "date",
          "numberOfSkills": "integer", "customer": "boolean", "lastContact": "integer"}),
]


class Live(LiveGateway):
    """One gateway over the three emulators, served from its own event loop thread."""

    # thousands of queries a minute from one consumer are the point here
    server = {"budgets": {"backendCallsPerSecond": 1e6, "backendCallsBurst": 10**6}}

    def __init__(self) -> None:
        super().__init__()
        self.datasets = 0  # datasets loaded
        self.queries = 0  # query calls sent
        self.checked = 0  # generated queries whose property held
        self.statuses: Counter[int] = Counter()  # statuses of the as-asked answers
        self.loaded: dict[str, dict[str, Any]] = {}  # the current dataset's rows by id

    # -- data --------------------------------------------------------------------------------

    def load(self, spec: Spec, rows: list[dict[str, Any]]) -> None:
        """Replace the entity's records with ``rows`` (role values, already in store form)."""
        store = self.harnesses[spec.kind].emulator.store
        self.datasets += 1
        if spec.kind == "dataservice":
            for row in store.rows(spec.entity):
                store.delete(spec.entity, row)
        else:
            for row in list(store.all(spec.entity)):
                store.delete(spec.entity, row["id"])
        self.loaded = {self._id(spec, i): row for i, row in enumerate(rows)}
        for rid, row in self.loaded.items():
            store.insert(spec.entity, {**row, spec.key: rid})

    def _id(self, spec: Spec, i: int) -> str:
        """Unique across datasets (Sugar keeps deleted rows), scattered across id orders."""
        n = (self.datasets * 1000 + i) * 0x9E3779B97F4A7C15 % 2**96
        if spec.kind == "dataservice":
            return f"{n:032x}"[:8] + "-" + "-".join(
                (f"{n:032x}"[8:12], f"{n:032x}"[12:16], f"{n:032x}"[16:20], f"{n:032x}"[20:]))
        if spec.kind == "slingr":
            return f"{n:024x}"
        return f"diff-{n:024x}"

    # -- the API -----------------------------------------------------------------------------

    async def query(self, spec: Spec, body: dict[str, Any]) -> tuple[int, Any]:
        self.queries += 1
        url = f"{self.root}/v1/records/{spec.kind}/{spec.entity}/query"
        async with self.session.post(url, params={"orgId": ORG}, json=body,
                                     headers=AUTH) as resp:
            return resp.status, await resp.json(content_type=None)

"""Smoke: describe, one page, Id presented as id."""

from ds_live import walk

from gateway.connector import PushedQuery


async def test_records_carry_id_not_Id(ds, emu):
    info = await ds.describe("Olympics")
    assert "id" in info.fields and "Id" not in info.fields
    page = await ds.query(await ds.describe("Olympics"), PushedQuery(), 0, 5)
    assert len(page.records) == 5 and page.more is True
    assert all("id" in r and "Id" not in r for r in page.records)
    everything = await walk(ds, "Olympics")
    assert len(everything) == len(emu.store.all("Olympics"))

"""Files on Sugar record fields: raw PUT, streamed GET, DELETE, and what is (never) repeated."""

import os

import pytest

from connectors.sugarcrm.connector import download_filename
from gateway.errors import BackendFailure, NotFound

FILE_PATH = "/rest/v10/Contacts/{id}/file/picture"


async def contact(crm, with_picture: bool = False) -> str:
    created = await crm.create("Contacts", {"last_name": "Filer"})
    rid = created["id"]
    if with_picture:
        await crm.put_file("Contacts", rid, "picture", filename="p.png", content_type="image/png",
                           chunks=chunks(b"\x89PNG\r\n\x1a\n" + b"x" * 100), size=None)
    return rid


async def chunks(data: bytes, step: int = 65_536):
    for i in range(0, len(data), step):
        yield data[i:i + step]


async def download(crm, rid: str) -> tuple[object, bytes, int]:
    async with crm.open_file("Contacts", rid, "picture") as got:
        parts = [c async for c in got.chunks]
    return got.info, b"".join(parts), len(parts)


async def test_upload_then_download_streams_the_same_bytes(crm, emu):
    rid = await contact(crm)
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(3 * 1024 * 1024)
    stored = await crm.put_file("Contacts", rid, "picture", filename="big.png",
                                content_type="image/png", chunks=chunks(data), size=len(data))
    assert stored.filename == "big.png" and stored.size == len(data)
    assert stored.content_type == "image/png"
    info, body, pieces = await download(crm, rid)
    assert body == data and pieces > 1  # read as it came, not in one piece
    assert info.size == len(data) and info.content_type == "image/png"
    assert info.filename == "big.png"
    put = [c for c in emu.log if c.method == "PUT" and c.path == FILE_PATH.format(id=rid)]
    assert len(put) == 1 and put[0].query == {"filename": "big.png"}


async def test_chunked_upload_without_a_size(crm):
    rid = await contact(crm)
    data = os.urandom(300_000)
    stored = await crm.put_file("Contacts", rid, "picture", filename="c.bin",
                                content_type="application/octet-stream", chunks=chunks(data),
                                size=None)
    assert stored.size == len(data)
    assert (await download(crm, rid))[1] == data


async def test_empty_field_missing_record_and_unknown_module_are_told_apart(crm):
    rid = await contact(crm)
    with pytest.raises(NotFound) as empty:
        await download(crm, rid)
    assert empty.value.key == "file_not_found" and empty.value.params["field"] == "picture"
    with pytest.raises(NotFound) as missing:
        await download(crm, "no-such-contact")
    assert missing.value.key == "record_not_found"
    with pytest.raises(NotFound) as module:
        async with crm.open_file("NoSuchModule", rid, "picture"):
            pass
    assert module.value.key == "unknown_entity"


async def test_delete_removes_and_an_empty_field_is_404_without_a_delete_call(crm, emu):
    rid = await contact(crm, with_picture=True)
    await crm.delete_file("Contacts", rid, "picture")
    with pytest.raises(NotFound):
        await download(crm, rid)
    before = emu.calls("DELETE", FILE_PATH.format(id=rid))
    with pytest.raises(NotFound) as again:
        await crm.delete_file("Contacts", rid, "picture")
    assert again.value.key == "file_not_found"
    # Real Sugar answers 200 to a DELETE on an empty field; we look first instead of trusting it.
    assert emu.calls("DELETE", FILE_PATH.format(id=rid)) == before
    with pytest.raises(NotFound) as gone:
        await crm.delete_file("Contacts", "no-such-contact", "picture")
    assert gone.value.key == "record_not_found"


@pytest.mark.parametrize("fault", ["fail", "drop"])
async def test_an_upload_is_never_repeated(crm, emu, fault):
    rid = await contact(crm)
    path = FILE_PATH.format(id=rid)
    if fault == "fail":
        emu.faults.fail(500, times=1, path=path, method="PUT")
    else:
        emu.faults.drop(times=1, path=path, method="PUT")
    with pytest.raises(BackendFailure):
        await crm.put_file("Contacts", rid, "picture", filename="x.png",
                           content_type="image/png", chunks=chunks(b"data" * 1000), size=4000)
    assert emu.calls("PUT", path) == 1


async def test_a_token_refused_mid_upload_fails_that_upload_only(crm, emu):
    rid = await contact(crm)
    emu.faults.expire_tokens()
    with pytest.raises(BackendFailure) as info:
        await crm.put_file("Contacts", rid, "picture", filename="x.png",
                           content_type="image/png", chunks=chunks(b"data"), size=4)
    assert info.value.source.error == "token_refused" and "again" in info.value.msg
    stored = await crm.put_file("Contacts", rid, "picture", filename="x.png",
                                content_type="image/png", chunks=chunks(b"data"), size=4)
    assert stored.size == 4


async def test_a_download_is_a_read_and_is_retried(crm, emu):
    rid = await contact(crm, with_picture=True)
    emu.faults.fail(503, times=1, path=FILE_PATH.format(id=rid), method="GET")
    _, body, _ = await download(crm, rid)
    assert body.startswith(b"\x89PNG") and emu.calls("GET", FILE_PATH.format(id=rid)) == 2


async def test_the_stored_file_name_survives_quotes_and_non_ascii(crm):
    rid = await contact(crm)
    for name in ('say "cheese".png', "résumé 写真.png", "back\\slash.png"):
        await crm.put_file("Contacts", rid, "picture", filename=name, content_type="image/png",
                           chunks=chunks(b"\x89PNG\r\n\x1a\n"), size=8)
        assert (await download(crm, rid))[0].filename == name


def test_download_filename_reads_sugars_unescaped_header_and_rfc6266():
    assert download_filename('attachment; filename="a "b".png"') == 'a "b".png'
    assert download_filename(None) is None
    assert download_filename("inline") is None
    assert download_filename("attachment; filename=\"x\"; filename*=UTF-8''%C3%A9.png") == "é.png"

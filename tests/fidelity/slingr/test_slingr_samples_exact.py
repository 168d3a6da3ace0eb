"""The seed's literal answers (logins, job references, files, jobs) replayed byte for byte."""

from __future__ import annotations

import pytest
from aiohttp import FormData

from connectors.slingr.emulator import SlingrEmulator
from tests.fidelity.slingr.conftest import API, slingr_login
from tests.fidelity.slingr.replay import assert_exact, pin_id, seq
from tests.fidelity.slingr.samples import (
    ACTION_ASYNC_REF,
    ACTION_MANY_ASYNC_REF,
    ACTION_QUERY_ASYNC_REF,
    DELETE_ASYNC_REF,
    DELETE_MANY_ASYNC_REF,
    DELETE_QUERY_ASYNC_REF,
    IMPERSONATION_ANSWER,
    JOB,
    JOB_LOGS,
    JOBS_FOUND_IDS,
    JOBS_FOUND_OFFSET,
    JOBS_FOUND_TOTAL,
    LOGIN_ANSWER,
    SHARED,
    UPLOADED,
)

BZ, BP = "57fd2d65e4b0ce322b0c8665", "57fd2d65e4b0ce322b0c8565"
CREATED_ID, OTHER_ID = "588775f63b063a0007604f4c", "588775f63b063a0007604f8b"
DIEGO = "57fce0c3e4b0ce322b0c06b2"


async def test_login_sample_replays_exactly(aiohttp_client):
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, app_name="appname",
                         user_ids={"user@test.com": DIEGO})
    emu.remote_ip = "10.240.0.38"  # the address Slingr saw behind its load balancer
    emu.tokens.new_token = lambda: "eLJjYSjLUPLlIEe8lfJUOmzsVNvSRpOv"
    client = await aiohttp_client(emu.app)
    resp = await client.post(f"{API}/auth/login",
                             json={"email": "user@test.com", "password": "abcdefgh"})
    await assert_exact(resp, LOGIN_ANSWER)
    # The sample's follow-up: GET /data/companies with the token header.
    listed = await client.get(f"{API}/data/companies", headers={"token": LOGIN_ANSWER["token"]})
    assert listed.status == 200


async def test_impersonation_sample_replays_exactly(aiohttp_client):
    emu = SlingrEmulator(users={"manager@test.com": "manager_password",
                                "employee@test.com": "x"}, app_name="appname",
                         user_ids={"employee@test.com": "57fe52ade4b0ce322b0cea32"})
    emu.remote_ip = "10.240.0.39"
    emu.tokens.new_token = lambda: "NE8lUuA2Yi9K6gL9EaQaTLIQLvYIhIyv"
    client = await aiohttp_client(emu.app)
    resp = await client.post(f"{API}/auth/login", json={
        "email": "manager@test.com", "password": "manager_password",
        "emailImpersonatedUser": "employee@test.com"})
    await assert_exact(resp, IMPERSONATION_ANSWER)


def _docs_app() -> SlingrEmulator:
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, companies=2, contacts=0)
    for rid in (CREATED_ID, OTHER_ID):
        emu.store.insert("companies", {"id": rid, "name": f"Test {rid[-3:]}", "type": "c"})
    return emu


# (method, path, ids the call makes before its job's: one history entry per record touched)
JOB_REFERENCE_SAMPLES = [
    ("DELETE", f"/data/companies/{CREATED_ID}?_async=true", 1, DELETE_ASYNC_REF),
    ("DELETE", f"/data/companies/{CREATED_ID},{OTHER_ID}?_async=true", 2,
     DELETE_MANY_ASYNC_REF),
    ("DELETE", "/data/companies?_async=true&type=a", 1, DELETE_QUERY_ASYNC_REF),
    ("PUT", f"/data/companies/{BZ}/logSomething?_async=true", 1, ACTION_ASYNC_REF),
    ("PUT", f"/data/companies/{BZ},{BP}/logSomething?_async=true", 2, ACTION_MANY_ASYNC_REF),
    ("PUT", f"/data/companies/logSomething?_async=true&id={BZ},{BP}", 2,
     ACTION_QUERY_ASYNC_REF),
]


@pytest.mark.parametrize("method, path, made_before, sample", JOB_REFERENCE_SAMPLES)
async def test_job_reference_samples_replay_exactly(aiohttp_client, method, path, made_before,
                                                    sample):
    emu = _docs_app()
    client = await aiohttp_client(emu.app)
    headers = {"token": await slingr_login(client, "user@test.com", "abcdefgh")}
    emu.clock = lambda: ms
    ms = pin_id(emu, sample["jobId"], made_before=made_before)
    body = {"param1": "a", "param2": "b"} if method == "PUT" else None
    resp = await client.request(method, API + path, json=body, headers=headers)
    await assert_exact(resp, sample)
    job = await (await client.get(API + sample["jobLink"][len("/api"):],
                                  headers=headers)).json()
    assert (job["id"], job["status"], job["hasErrors"]) == (sample["jobId"], "FINISHED", False)


async def test_file_samples_replay_exactly(aiohttp_client):
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, companies=2, contacts=0)
    client = await aiohttp_client(emu.app)
    headers = {"token": await slingr_login(client, "user@test.com", "abcdefgh")}
    content = b"this is the content of the file"

    def form() -> FormData:
        data = FormData()
        data.add_field("file", content, filename="file.ext", content_type="text/plain")
        return data

    emu.clock = lambda: ms
    ms = pin_id(emu, UPLOADED["fileId"])
    await assert_exact(await client.post(f"{API}/files", data=form(), headers=headers),
                       UPLOADED)
    ms = pin_id(emu, SHARED["sharedFileId"])
    resp = await client.put(f"{API}/files/{UPLOADED['fileId']}/share?ttl=60000",
                            headers=headers)
    await assert_exact(resp, SHARED)
    # The record-file sample names a file id equal to the share's: upload one with that id.
    ms = pin_id(emu, "588fa383b45fc9000bc1c014")
    record_file = (await (await client.post(f"{API}/files", data=form(),
                                            headers=headers)).json())["fileId"]
    await client.put(f"{API}/data/companies/{BZ}", json={"logo": record_file}, headers=headers)
    for path, auth in ((f"/files/{UPLOADED['fileId']}", headers),
                       (f"/data/companies/{BZ}/files/588fa383b45fc9000bc1c014", headers),
                       (f"/files/shared/{SHARED['sharedFileId']}", {})):
        resp = await client.get(API + path, headers=auth)
        assert (resp.status, await resp.read()) == (200, content)
        assert resp.headers["Content-Type"] == "application/force-download"
        assert resp.headers["Content-Disposition"] == "attachment; filename=file.ext"


async def test_get_job_sample_replays_but_for_data_and_results(aiohttp_client):
    """The docs' job answer leaves out `data` and `results`, which their job structure (and
    the export flow, which reads results.fileLink) has; every key it does show is exact."""
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, companies=2, contacts=0,
                         user_ids={"user@test.com": DIEGO},
                         user_names={"user@test.com": "Diego Gaviola"})
    client = await aiohttp_client(emu.app)
    headers = {"token": await slingr_login(client, "user@test.com", "abcdefgh")}
    pin_id(emu, JOB["id"])
    # Reads: createDate, the job id, startDate, the "Cleaning up" line, endDate.
    emu.clock = seq(1485439681643, 1485439681643, 1485439681652, 1485439681700, 1485439681807)
    resp = await client.put(f"{API}/data/companies/countEmployees?_async=true&name=nobody",
                            headers=headers)
    assert (await resp.json())["jobId"] == JOB["id"]
    job = await (await client.get(f"{API}/status/jobs/{JOB['id']}", headers=headers)).json()
    assert {k: v for k, v in job.items() if k in JOB} == JOB
    assert list(job)[:len(JOB)] == list(JOB) and set(job) - set(JOB) == {"data", "results"}
    assert job["results"] == {"numberOfEmployees": 0}


async def test_job_list_and_job_logs_samples_replay_exactly(aiohttp_client):
    emu = SlingrEmulator(users={"user@test.com": "abcdefgh"}, companies=0, contacts=0)
    client = await aiohttp_client(emu.app)
    headers = {"token": await slingr_login(client, "user@test.com", "abcdefgh")}

    async def async_delete() -> str:
        resp = await client.delete(f"{API}/data/companies/{CREATED_ID}?_async=true",
                                   headers=headers)
        job_id: str = (await resp.json())["jobId"]
        return job_id

    emu.clock = lambda: 1485887000000  # earlier jobs: 47 finished, 4 then stopped
    older = [await async_delete() for _ in range(51)]
    for job_id in older[-4:]:
        emu.store.jobs[job_id]["status"] = "RUNNING"
        assert (await client.put(f"{API}/status/jobs/{job_id}/stop", headers=headers)).status \
            == 200
    for job_id in reversed(JOBS_FOUND_IDS):
        ms = pin_id(emu, job_id)
        emu.clock = (seq(1485887710540, 1485887710540, 1485887710544, 1485887710546,
                         1485887710704) if job_id == JOBS_FOUND_IDS[0] else seq(ms))
        assert await async_delete() == job_id
    resp = await client.get(f"{API}/status/jobs?status=FINISHED&_size=3", headers=headers)
    listed = await resp.json()
    assert (listed["total"], listed["offset"]) == (JOBS_FOUND_TOTAL, JOBS_FOUND_OFFSET)
    assert list(listed) == ["total", "offset", "items"]
    assert [j["id"] for j in listed["items"]] == JOBS_FOUND_IDS  # the rest is "..." in the docs
    resp = await client.get(f"{API}/status/job/{JOBS_FOUND_IDS[0]}/logs", headers=headers)
    await assert_exact(resp, JOB_LOGS)
    resp = await client.get(f"{API}/status/jobs?status=STOPPING", headers=headers)
    assert (await resp.json())["total"] == 4
